package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Memory measured from the tensors a run held. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MemoryUsage {
    @JsonPropertyDescription("Parameters updated by the optimizer.")
    public Long trainableParameters;

    @JsonPropertyDescription("All parameters of the model, adapters included.")
    public Long totalParameters;

    @JsonPropertyDescription("Bytes held by optimizer state (Adam moments, GaLore projectors).")
    public Long optimizerStateBytes;

    @JsonPropertyDescription("Bytes held by gradients of trainable parameters.")
    public Long gradientBytes;

    @JsonPropertyDescription("Bytes held by model weights, adapters included.")
    public Long weightBytes;

    @JsonPropertyDescription("Peak resident set size of the trainer process, bytes.")
    public Long peakRssBytes;
}
