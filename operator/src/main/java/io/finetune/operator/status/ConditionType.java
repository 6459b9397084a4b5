package io.finetune.operator.status;

/** Condition types the operator writes on a FineTuneJob (Kubernetes conventions: type, status, reason, message). */
public enum ConditionType {
    /** The spec passed validation (False: reason InvalidSpec, message names the field). */
    Valid,
    /** The training pod is bound to a node (False with reason Unschedulable and the scheduler's message). */
    Scheduled,
    /** A training pod is running. */
    Running,
    /** The training Job is suspended (spec.suspend). */
    Suspended,
    /** Only with spec.queueName: Kueue admitted the Job (False: reason Queued before the first admission, Evicted after one). */
    Admitted,
    /** The run finished and its artifact is recorded. */
    Succeeded,
    /** The run failed; reason is a {@link StatusReason} whose isFailure() holds. */
    Failed,
    /** The spec changed after the Job was created; the change is not applied. */
    SpecChangeIgnored,
    /** The output the spec asks for loads in vLLM (False: reason NotServableByVllm, message names the setting and the fix). */
    ServingCompatible,
    /** The CPU preflight passed (False: reason is the failure StatusReason it found, no GPU Job was created). */
    PreflightPassed,
    /** True only when the run succeeded; False with the phase's reason otherwise (Flux / kstatus readiness). */
    Ready,
    /** kstatus "abnormal-true" condition: True while the run is in progress (Pending, Running). */
    Reconciling,
    /** kstatus "abnormal-true" condition: True when the run failed (it will not progress without a new FineTuneJob). */
    Stalled
}
