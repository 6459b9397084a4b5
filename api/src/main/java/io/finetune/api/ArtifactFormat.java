package io.finetune.api;

import io.finetune.api.v1alpha1.MethodType;
import java.util.Arrays;
import java.util.Optional;

/**
 * What a run writes, as it appears in status.artifact.format. One list for the trainer (which writes it) and the operator
 * (which accepts only these values from a pod's termination message).
 */
public enum ArtifactFormat {
    /** A PEFT adapter directory: adapter_config.json + adapter_model.safetensors (LoRA, DoRA, LoRA+). */
    PEFT_LORA("peft-lora"),
    /** A Hugging Face model directory with full weights (Full, GaLore). */
    HF_FULL("hf-full");

    private final String wireName;

    ArtifactFormat(String wireName) {
        this.wireName = wireName;
    }

    /** The value written to status.artifact.format. */
    public String wireName() {
        return wireName;
    }

    /** The format a method writes. */
    public static ArtifactFormat of(MethodType type) {
        return type.isAdapter() ? PEFT_LORA : HF_FULL;
    }

    /** The format named by a status value, if it is one of ours. */
    public static Optional<ArtifactFormat> fromWireName(String value) {
        return Arrays.stream(values()).filter(f -> f.wireName.equals(value)).findFirst();
    }
}
