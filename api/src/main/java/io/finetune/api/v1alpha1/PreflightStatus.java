package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the CPU preflight found before any GPU was requested. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PreflightStatus {
    @JsonPropertyDescription("Usable records after the record policies (train + eval split).")
    public Long records;

    @JsonPropertyDescription("Tokens of the training split, after truncation.")
    public Long tokens;

    @JsonPropertyDescription("Records cut to spec.dataset.maxSeqLength (overlongRecords: Truncate).")
    public Long truncated;

    @JsonPropertyDescription("Records dropped by invalidRecords: Skip or overlongRecords: Skip.")
    public Long skipped;

    @JsonPropertyDescription("Memory plan of the job's method on the GPU, bytes per category (weights, gradients, optimizer, "
            + "activations, total incl. the runtime reserve).")
    public PlannedBytes plannedBytes;

    @JsonPropertyDescription("GPU memory the plan was checked against, bytes (spec.resources.gpuMemory or the nodes' "
            + "nvidia.com/gpu.memory label). Default: none (not checked).")
    public Long gpuMemoryBytes;

    @JsonPropertyDescription("Whether the plan fits gpuMemoryBytes; absent when the GPU memory is unknown.")
    public Boolean fits;

    @JsonPropertyDescription("Notes, e.g. why the memory check was skipped.")
    public String note;

    /** Planned training memory by category. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class PlannedBytes {
        @JsonPropertyDescription("Model weights, bytes.")
        public Long weights;

        @JsonPropertyDescription("Gradients of the trainable parameters, bytes.")
        public Long gradients;

        @JsonPropertyDescription("Optimizer state, bytes.")
        public Long optimizer;

        @JsonPropertyDescription("Activations for one micro-batch, bytes.")
        public Long activations;

        @JsonPropertyDescription("Sum of the above plus the runtime reserve, bytes.")
        public Long total;
    }
}
