package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Numeric precision of the trainable weights and activations. */
public enum Precision {
    /** bf16 on GPUs that support it, fp32 on CPU. */
    @JsonProperty("auto")
    AUTO,
    @JsonProperty("fp32")
    FP32,
    @JsonProperty("bf16")
    BF16,
    @JsonProperty("fp16")
    FP16
}
