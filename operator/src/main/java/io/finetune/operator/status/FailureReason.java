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
    EvaluationGateFailed,
    /** Preflight: a record breaks the record policies (message: file:line and the reason). */
    InvalidDataset,
    /** Preflight: a targetModules entry matches no module of the model (message lists those that exist). */
    TargetModulesNotFound,
    /** Preflight: the memory plan does not fit the GPU (message: the plan's figures and what would fit). */
    InsufficientGPUMemory,
    /** Preflight: a source or the destination cannot be reached with the given credentials. */
    StorageError,
    /** Preflight: the model's config.json or tokenizer cannot be used. */
    InvalidModel,
    /** Preflight: the preflight pod failed without a verdict (message: its log tail). */
    PreflightError
}
