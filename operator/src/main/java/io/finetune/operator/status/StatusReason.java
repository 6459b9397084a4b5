package io.finetune.operator.status;

import io.finetune.api.v1alpha1.Phase;
import java.util.Arrays;
import java.util.Optional;

/**
 * Every reason the operator writes: of a phase (events, {@code Ready}/{@code Reconciling}/{@code Stalled}), of the other
 * conditions, and of the events that are no phase. The constant's name is the wire value (the condition's or event's
 * {@code reason}): users, tests, docs and alerting rules name them, so a name is API and never changes.
 */
public enum StatusReason {
    // Phase Pending
    /** No Job yet: the pass creates it. */
    Creating(Kind.PROGRESS),
    /** A namesake's Job (another FineTuneJob of this name, being deleted) is in the way. */
    Blocked(Kind.WAIT),
    /** The CPU preflight runs before a GPU is requested. */
    Preflight(Kind.PROGRESS),
    /** The training pod has not started (also Running=False's reason while the run waits). */
    Pending(Kind.PROGRESS),
    /** No node can take the pod; the message is the scheduler's. */
    Unschedulable(Kind.WAIT),
    // Phase Queued
    /** Kueue holds the Job (spec.queueName): before its first admission or after an eviction. */
    Queued(Kind.PROGRESS),
    // Phase Running
    /** A pod is training (Running=True). */
    Running(Kind.PROGRESS),
    /** The pod replacing a failed attempt starts (names the failed pod's reason and exit code). */
    Retrying(Kind.PROGRESS),
    /** A pod exited and the Job controller has not recorded the outcome yet. */
    Finishing(Kind.PROGRESS),
    /** The trainer stopped on SIGTERM with a checkpoint (exit 75); not counted against backoffLimit. */
    Preempted(Kind.PROGRESS),
    // Final and held phases
    /** The run finished and its artifact is recorded. */
    Succeeded(Kind.PROGRESS),
    /** spec.suspend is true: no pod runs. */
    Suspended(Kind.PROGRESS),
    /** Running=False's reason once the run ended in failure (the Failed condition carries the precise reason). */
    Failed(Kind.PROGRESS),
    // Phase Failed: the Failed condition's reason
    /** The Job's pods failed backoffLimit + 1 times without a more specific cause. */
    BackoffLimitExceeded(Kind.FAILURE),
    /** The Job ran past spec.activeDeadlineSeconds. */
    DeadlineExceeded(Kind.FAILURE),
    /** The kernel killed the trainer for exceeding its memory limit. */
    OOMKilled(Kind.FAILURE),
    /** The trainer image cannot be pulled (bad name, missing tag, no access). */
    ImagePullBackOff(Kind.FAILURE),
    /** The spec cannot run; the condition message names the field. */
    InvalidSpec(Kind.FAILURE),
    /** The trainer reported a failure (termination message) or exited with an error. */
    TrainerError(Kind.FAILURE),
    /** The run finished but missed spec.evaluation; the losses are in status.metrics, the output under rejected/. */
    EvaluationGateFailed(Kind.FAILURE),
    /** Preflight: a record breaks the record policies (message: file:line and the reason). */
    InvalidDataset(Kind.FAILURE),
    /** Preflight: a targetModules entry matches no module of the model (message lists those that exist). */
    TargetModulesNotFound(Kind.FAILURE),
    /** Preflight: the memory plan does not fit the GPU (message: the plan's figures and what would fit). */
    InsufficientGPUMemory(Kind.FAILURE),
    /** Preflight: a source or the destination cannot be reached with the given credentials. */
    StorageError(Kind.FAILURE),
    /** Preflight: the model's config.json or tokenizer cannot be used. */
    InvalidModel(Kind.FAILURE),
    /** Preflight: the preflight pod failed without a verdict (message: its log tail). */
    PreflightError(Kind.FAILURE),
    // Reasons of the other conditions
    /** Admitted=True: Kueue unsuspended the Job (it may inject node selectors). */
    Admitted(Kind.CONDITION),
    /** Admitted=False after an admission: Kueue suspended the Job again (its pod checkpoints on SIGTERM). */
    Evicted(Kind.CONDITION),
    /** Valid=True. */
    Valid(Kind.CONDITION),
    /** Scheduled=True: the pod is bound to a node. */
    Scheduled(Kind.CONDITION),
    /** Suspended=False (spec.suspend is false; also the event when a suspended Job is resumed). */
    Resumed(Kind.CONDITION),
    /** PreflightPassed=True. */
    Passed(Kind.CONDITION),
    /** SpecChangeIgnored=True (also its Warning event). */
    SpecChangeIgnored(Kind.CONDITION),
    /** SpecChangeIgnored=False after it had been True. */
    SpecUnchanged(Kind.CONDITION),
    /** ServingCompatible=True. */
    Servable(Kind.CONDITION),
    /** ServingCompatible=False (also its Warning event): the adapter asked for will not load in vLLM. */
    NotServableByVllm(Kind.CONDITION),
    // Events that are no condition
    /** The training Job was created. */
    JobCreated(Kind.EVENT),
    /** The preflight passed (the event beside PreflightPassed=True). */
    PreflightPassed(Kind.EVENT),
    /** Every pod of a gang attempt started: the operator wrote their ranks and rank 0's address (spec.resources.nodes). */
    RanksAssigned(Kind.EVENT),
    /** A pod of a gang attempt failed or was deleted: the operator deleted the rest, the whole gang restarts from the checkpoint. */
    GangRestarted(Kind.EVENT);

    /** What a reason is about; decides an event's type. */
    enum Kind {
        /** The run moves on, or is held on purpose. */
        PROGRESS,
        /** The run waits on something a human may have to fix: a Warning event. */
        WAIT,
        /** The precise reason of phase Failed: a Warning event. */
        FAILURE,
        /** The reason of a condition other than the phase's. */
        CONDITION,
        /** An event's reason only. */
        EVENT
    }

    private final Kind kind;

    StatusReason(Kind kind) {
        this.kind = kind;
    }

    /** True for the reasons of phase Failed (the Failed condition's reason). */
    public boolean isFailure() {
        return kind == Kind.FAILURE;
    }

    /** A transition into this reason is a Warning event. */
    public boolean warns() {
        return kind == Kind.WAIT || kind == Kind.FAILURE;
    }

    /** The reason a phase stands for where no more precise one is known (every phase's name is a reason). */
    public static StatusReason of(Phase phase) {
        return valueOf(phase.name());
    }

    /** The reason of this wire value; empty for a value this operator does not write (an older version's, a hand edit). */
    public static Optional<StatusReason> parse(String wire) {
        return Arrays.stream(values()).filter(r -> r.name().equals(wire)).findFirst();
    }
}
