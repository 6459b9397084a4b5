package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How LoRA's A matrix is initialised (B always starts at zero, so the adapter starts as a no-op). */
public enum LoraInit {
    /** A ~ Kaiming-uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), as PEFT's init_lora_weights=True. */
    @JsonProperty("default")
    DEFAULT,
    /** A ~ N(0, 1/r), as PEFT's init_lora_weights="gaussian". */
    @JsonProperty("gaussian")
    GAUSSIAN
}
