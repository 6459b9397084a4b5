package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The dtype a 4-bit weight is dequantized to for the matmul (bitsandbytes' bnb_4bit_compute_dtype). */
public enum ComputeDtype {
    /** The run's compute precision: bf16 on a GPU, fp32 on the CPU. */
    @JsonProperty("auto")
    AUTO,
    @JsonProperty("bf16")
    BF16,
    @JsonProperty("fp32")
    FP32
}
