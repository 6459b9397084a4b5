package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * Observed state. One writer per field: the operator owns everything here except {@code progress}, which the trainer
 * patches on its own FineTuneJob while it runs.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FineTuneJobStatus {
    @JsonPropertyDescription("Pending, Queued (waiting for Kueue to admit the Job: spec.queueName), Running, Succeeded, Failed or Suspended.")
    public Phase phase;

    @JsonPropertyDescription("The metadata.generation this status was computed from.")
    public Long observedGeneration;

    @JsonPropertyDescription("Kubernetes-style conditions (Valid, Ready, Succeeded, ...) with reason, message and lastTransitionTime.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("When the first training pod started (RFC 3339).")
    public String startTime;

    @JsonPropertyDescription("When the job reached Succeeded or Failed (RFC 3339).")
    public String completionTime;

    @JsonPropertyDescription("Training pods started so far (a retried or preempted pod counts again).")
    public Integer attempts;

    @JsonPropertyDescription("Trainer processes of the run (ranks): spec.resources.nodes x processes per pod (gpus when above "
            + "1, else 1). Progress is rank 0's; usage sums every pod.")
    public Integer worldSize;

    @JsonPropertyDescription("What the CPU preflight found (records, tokens, planned GPU bytes, fit) before the GPU Job was created.")
    public PreflightStatus preflight;
    @JsonPropertyDescription("GPU time and attempts, for chargeback: summed over every training pod that ran.")
    public Usage usage;

    @JsonPropertyDescription("Live training progress, reported by the trainer.")
    public Progress progress;

    @JsonPropertyDescription("Final training and evaluation losses.")
    public Metrics metrics;

    @JsonPropertyDescription("Measured memory of the run: parameters and the bytes held by weights, gradients and optimizer state.")
    public MemoryUsage memory;

    @JsonPropertyDescription("What the run computed on: the precision that ran (spec.training.precision resolved) and the device.")
    public Execution execution;

    @JsonPropertyDescription("The written adapter or weights, with a content digest.")
    public Artifact artifact;

    @JsonPropertyDescription("Human-readable summary of the current state or the failure.")
    public String message;
}
