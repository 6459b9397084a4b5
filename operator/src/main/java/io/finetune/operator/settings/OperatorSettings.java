package io.finetune.operator.settings;

import java.util.Optional;

/**
 * Operator-wide settings the desired-state builders need; a plain record so tests build it directly.
 *
 * @param trainerImage     image used when a FineTuneJob sets no spec.image (empty: spec.image is required)
 * @param imagePullPolicy  pull policy of the trainer container (Always, IfNotPresent, Never)
 * @param defaultCpu       CPU request/limit when spec.resources.cpu is unset (empty: none)
 * @param defaultMemory    memory request/limit when spec.resources.memory is unset (empty: none)
 * @param scratchSizeLimit size limit of the /scratch emptyDir (empty: node default)
 */
public record OperatorSettings(Optional<String> trainerImage, String imagePullPolicy, Optional<String> defaultCpu,
                               Optional<String> defaultMemory, Optional<String> scratchSizeLimit) {
    public static OperatorSettings defaults() {
        return new OperatorSettings(Optional.of("finetune/finetune-trainer:0.1.0"), "IfNotPresent", Optional.empty(),
                Optional.empty(), Optional.empty());
    }
}
