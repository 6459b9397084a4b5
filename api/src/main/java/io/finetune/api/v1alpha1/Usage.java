package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the run consumed, written by the operator from the training pods' container start and finish times. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Usage {
    @JsonPropertyDescription("GPU-seconds: for each training pod that finished (succeeded, failed or preempted), its trainer container's running time (second resolution) x the GPUs it held, summed. A running pod is added when it ends. Default: 0.")
    public Double gpuSeconds;

    @JsonPropertyDescription("Training pods that ran, preempted ones included. Default: 0.")
    public Integer attempts;

    @JsonPropertyDescription("Training pods that stopped on SIGTERM with a checkpoint (exit code 75: deleted, evicted, preempted or suspended); they do not count against spec.backoffLimit. Default: 0.")
    public Integer preemptions;
}
