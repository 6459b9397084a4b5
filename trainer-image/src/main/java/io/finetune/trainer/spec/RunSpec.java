package io.finetune.trainer.spec;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One training run, resolved: what to train on, how, and where the output goes. Built once from the manifest by
 * {@link RunSpecReader} (defaults applied, validated); immutable. {@code TrainingRun} and {@code Trainer} are configured
 * from it through their constructors.
 *
 * @param job        the FineTuneJob's name, namespace and uid (the uid may be null locally)
 * @param sources    the model, tokenizer and dataset locations
 * @param data       how the dataset is read, split and batched
 * @param method     the method and its typed settings
 * @param training   optimisation settings
 * @param evaluation periodic evaluation and the gate's thresholds ({@link EvaluationSettings#NONE} when unset)
 * @param output     the destination and whether to merge adapters
 * @param collectiveTimeout how long a collective of a data-parallel run waits for the other ranks
 * @param ranksPerPod       data-parallel processes per pod: spec.resources.gpus when above 1 (one per GPU), else 1
 * @param quantization the 4-bit base ({@code spec.model.quantization}); empty: the weights as loaded
 */
public record RunSpec(JobRef job, Sources sources, DataSettings data, MethodSettings method, TrainingSettings training,
                      EvaluationSettings evaluation, OutputSettings output, Duration collectiveTimeout, int ranksPerPod,
                      Optional<QuantizationSettings> quantization) {
    public RunSpec {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(sources, "sources");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(training, "training");
        Objects.requireNonNull(evaluation, "evaluation");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(collectiveTimeout, "collectiveTimeout");
        if (ranksPerPod < 1) {
            throw new IllegalArgumentException("ranksPerPod must be at least 1, got " + ranksPerPod);
        }
        Objects.requireNonNull(quantization, "quantization");
        if (quantization.isPresent() && !(method instanceof LoraSettings)) {
            throw new IllegalArgumentException("spec.model.quantization holds the base weights in 4 bits, which only LoRA, "
                    + "DoRA and LoRAPlus can train over, not " + method.type());
        }
    }

    /**
     * The job a run belongs to.
     *
     * @param uid the FineTuneJob's uid where there is one (in a pod, or a manifest that carries it); null otherwise
     */
    public record JobRef(String name, String namespace, String uid) {
        public JobRef {
            Objects.requireNonNull(name, "job name");
        }
    }
}
