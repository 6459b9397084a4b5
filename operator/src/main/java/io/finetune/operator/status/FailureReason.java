package io.finetune.operator.status;

/** The precise reason of a Failed FineTuneJob, used as the Failed condition's reason. */
public enum FailureReason {
    /** The Job's pods failed backoffLimit + 1 times without a more specific cause. */
    BackoffLimitExceeded,
    /** The Job ran past spec.activeDeadlineSeconds. */
    DeadlineExceeded,
    /** The kernel killed the trainer for exceeding its memory limit. */
    OOMKilled,
    /** The trainer image cannot be pulled (bad name, missing tag, no access). */
    ImagePullBackOff,
    /** The spec cannot run; the condition message names the field. */
    InvalidSpec,
    /** The trainer reported a failure (termination message) or exited with an error. */
    TrainerError,
    /** The run finished but missed spec.evaluation; the losses are in status.metrics, the output under rejected/. */
    EvaluationGateFailed
}
