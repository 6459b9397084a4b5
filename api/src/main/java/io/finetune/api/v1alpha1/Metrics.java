package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Final losses of a run. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Metrics {
    @JsonPropertyDescription("Mean training loss over the last logging window.")
    public Double trainLoss;

    @JsonPropertyDescription("Mean loss on the held-out split before training.")
    public Double evalLossBefore;

    @JsonPropertyDescription("Mean loss on the held-out split after training.")
    public Double evalLossAfter;
}
