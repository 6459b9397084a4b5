package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/**
 * The gate between training and publishing: the held-out eval loss is measured before and after training; a run that
 * misses a threshold ends Failed (EvaluationGateFailed) and its output is kept under rejected/ instead of being published.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EvaluationSpec {
    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Highest acceptable eval loss (nats per token) of the published weights. Default: no limit.")
    public Double maxEvalLoss;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Least relative drop of the eval loss from before training, 0 to <1 (0.05: at least 5% lower). "
            + "Default: no limit.")
    public Double minRelativeImprovement;

    @Min(1)
    @JsonPropertyDescription("Also evaluate every N optimizer steps and publish the weights with the lowest eval loss (the step is "
            + "in status.metrics.bestStep). Default: evaluate only after the last step.")
    public Integer evalEverySteps;
}
