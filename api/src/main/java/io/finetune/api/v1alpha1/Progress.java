package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Live progress, written by the trainer (JSON merge patch on status.progress). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Progress {
    @JsonPropertyDescription("Optimizer steps done.")
    public Long step;

    @JsonPropertyDescription("Optimizer steps planned.")
    public Long totalSteps;

    @JsonPropertyDescription("Fractional epoch reached.")
    public Double epoch;

    @JsonPropertyDescription("Training loss (mean over the last logging window).")
    public Double loss;

    @JsonPropertyDescription("Current learning rate.")
    public Double learningRate;

    @JsonPropertyDescription("Training throughput in tokens per second.")
    public Double tokensPerSecond;

    @JsonPropertyDescription("Estimated time to finish, e.g. 4m10s.")
    public String eta;

    @JsonPropertyDescription("Percent of the planned optimizer steps done, 0-100 (rounded down), as Kubeflow Trainer's trainerStatus.progressPercentage.")
    public Integer percentage;

    @JsonPropertyDescription("Seconds left at this pod's measured step rate (integer), as Kubeflow Trainer's trainerStatus.estimatedRemainingSeconds; absent until a step was timed.")
    public Long estimatedRemainingSeconds;

    @JsonPropertyDescription("step/totalSteps, shown by kubectl get ftj.")
    public String summary;
}
