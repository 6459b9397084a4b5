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

    @JsonPropertyDescription("Mean loss on the held-out split of the published (or rejected) weights: after the last step, or of "
            + "the best step with spec.evaluation.evalEverySteps.")
    public Double evalLossAfter;

    @JsonPropertyDescription("Optimizer step whose weights were published (spec.evaluation.evalEverySteps: lowest eval loss). "
            + "Default: none (the last step).")
    public Integer bestStep;
}
