package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Learning-rate schedule after linear warmup. */
public enum SchedulerType {
    /** Cosine decay from the peak learning rate to zero at the last step. */
    @JsonProperty("cosine")
    COSINE,
    /** Linear decay from the peak learning rate to zero at the last step. */
    @JsonProperty("linear")
    LINEAR,
    /** The peak learning rate throughout. */
    @JsonProperty("constant")
    CONSTANT
}
