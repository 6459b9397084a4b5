package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.finetune.api.TrainerResult;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.observe.GangFacts;
import io.finetune.operator.observe.JobFacts;
import io.finetune.operator.observe.Observation;
import io.finetune.operator.observe.PodFacts;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The phase rules, one method per phase a user sees, each returning its {@link Outcome}. {@link #outcome} tries them in
 * the order that makes the status honest: a recorded end of the Job wins over what pods still show, a pull failure over a
 * hold, a hold (the user's suspend, or Kueue's before admission) over anything a pod shows. Pure: reads the observation only.
 */
final class PhaseRules {
    private PhaseRules() {
    }

    static Outcome outcome(Observation o, List<Violation> violations) {
        if (!violations.isEmpty()) {
            return invalidSpec(violations);
        }
        Outcome outcome = o.job() == null ? noJob(o) : withJob(o, o.job());
        return outcome.after(Conditions.of(ConditionType.Valid, true, StatusReason.Valid, "the spec passed validation"));
    }

    /** Failed/InvalidSpec: nothing was created. */
    static Outcome invalidSpec(List<Violation> violations) {
        String msg = violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
        return Outcome.failed(StatusReason.InvalidSpec, msg,
                Conditions.of(ConditionType.Valid, false, StatusReason.InvalidSpec, msg));
    }

    /** Pending/Creating, or Pending/Blocked while a namesake's Job is in the way. */
    static Outcome noJob(Observation o) {
        return o.blocked() != null ? Outcome.pending(StatusReason.Blocked, o.blocked())
                : Outcome.pending(StatusReason.Creating, "creating the training Job");
    }

    private static Outcome withJob(Observation o, Job job) {
        Optional<JobCondition> failed = JobFacts.failed(job);
        if (failed.isPresent()) {
            return jobFailed(o, job, failed.get());
        }
        if (JobFacts.complete(job)) {
            return completed(o);
        }
        Optional<Outcome> pull = imagePullFailed(o.pods());
        if (pull.isPresent()) {
            return pull.get();
        }
        String queue = o.resource().getSpec() == null ? null : o.resource().getSpec().queueName;
        boolean userSuspend = o.resource().getSpec() != null && Boolean.TRUE.equals(o.resource().getSpec().suspend);
        if (JobFacts.suspended(job)) {
            return queue != null && !userSuspend ? queued(o, queue) : suspended(o.resource());
        }
        Outcome active = active(o.pods()).after(Conditions.of(ConditionType.Suspended, false, StatusReason.Resumed, "spec.suspend is false"));
        return queue == null ? active : active.after(Conditions.of(ConditionType.Admitted, true, StatusReason.Admitted,
                "Kueue admitted the Job from LocalQueue " + queue));
    }

    /**
     * Queued: Kueue holds the Job (spec.queueName, spec.suspend false), before its first admission or after an eviction
     * (Kueue suspended the admitted Job again: its pod got SIGTERM and checkpoints; that stop is not a failed attempt).
     */
    static Outcome queued(Observation o, String queue) {
        Condition suspendedFalse = Conditions.of(ConditionType.Suspended, false, StatusReason.Queued,
                "spec.suspend is false; Kueue holds the Job until it admits it");
        boolean admittedBefore = !o.pods().isEmpty() || o.resource().getStatus() != null
                && Conditions.find(o.resource().getStatus().conditions, ConditionType.Admitted)
                .map(c -> !StatusReason.Queued.name().equals(c.getReason())).orElse(false);
        if (!admittedBefore) {
            String msg = "waiting for Kueue to admit the Job from LocalQueue " + queue + " (the Job stays suspended until then)";
            return Outcome.of(Phase.Queued, StatusReason.Queued, msg, Conditions.of(ConditionType.Admitted, false, StatusReason.Queued, msg),
                    suspendedFalse, Conditions.of(ConditionType.Running, false, StatusReason.Queued, msg));
        }
        Optional<Pod> stopping = runningPod(o.pods());
        String again = "the Job waits in LocalQueue " + queue + " to be admitted again and resumes from its checkpoint";
        if (stopping.isPresent()) {
            String msg = "evicted by Kueue: pod " + stopping.get().getMetadata().getName() + " is stopping (SIGTERM: the trainer"
                    + " checkpoints its current step); " + again;
            return Outcome.of(Phase.Queued, StatusReason.Queued, msg, Conditions.of(ConditionType.Admitted, false, StatusReason.Evicted, msg),
                    suspendedFalse, Conditions.of(ConditionType.Running, true, StatusReason.Preempted, msg));
        }
        Optional<Long> steps = PodFacts.lastFinished(o.pods(), "Failed").filter(PodFacts::preempted).flatMap(PodFacts::terminated)
                .flatMap(t -> TrainerResult.parse(t.getMessage())).map(TrainerResult::steps);
        // The pod's own report when it is still there; a Job controller may have removed the pod already: then the
        // trainer's last progress says where it stopped.
        var progress = o.resource().getStatus() == null ? null : o.resource().getStatus().progress;
        String at = steps.map(k -> " after step " + k + " (checkpoint saved)")
                .orElse(progress != null && progress.summary != null ? " at step " + progress.summary : "");
        String msg = "evicted by Kueue" + at + "; " + again;
        return Outcome.of(Phase.Queued, StatusReason.Queued, msg, Conditions.of(ConditionType.Admitted, false, StatusReason.Evicted, msg),
                suspendedFalse, Conditions.of(ConditionType.Running, false, StatusReason.Queued, msg));
    }

    /** Failed with the most precise reason the Job's end and its last pod give. */
    static Outcome jobFailed(Observation o, Job job, JobCondition failed) {
        if ("DeadlineExceeded".equals(failed.getReason())) {
            return Outcome.failed(StatusReason.DeadlineExceeded, "the Job ran longer than spec.activeDeadlineSeconds="
                    + (o.resource().getSpec() == null ? null : o.resource().getSpec().activeDeadlineSeconds) + "s");
        }
        Optional<Pod> last = PodFacts.lastFinished(o.pods(), "Failed");
        Optional<ContainerStateTerminated> term = last.flatMap(PodFacts::terminated);
        if (term.isPresent() && "OOMKilled".equals(term.get().getReason())) {
            return Outcome.failed(StatusReason.OOMKilled, "the trainer exceeded its memory limit (exit code "
                    + term.get().getExitCode() + "); raise spec.resources.memory or lower spec.training.batchSize");
        }
        Optional<String> trainer = term.flatMap(t -> TrainerReport.failure(t.getMessage()));
        if (trainer.isPresent()) {
            return Outcome.failed(StatusReason.TrainerError, trainer.get());
        }
        String detail = term.map(t -> "; last exit code " + t.getExitCode()).orElse("");
        return Outcome.failed(StatusReason.BackoffLimitExceeded, "the training pod failed "
                + (job.getStatus().getFailed() == null ? "" : job.getStatus().getFailed() + " time(s)")
                + ", more than spec.backoffLimit=" + job.getSpec().getBackoffLimit() + detail
                + (failed.getMessage() != null ? " (" + failed.getMessage() + ")" : ""));
    }

    /**
     * The Job completed: Succeeded with the artifact, or Failed when the report is unusable or missed the gate. A Job read
     * as Complete while the pod that carries the result (rank 0 of a gang) still shows unfinished is a view older for the
     * pod than for the Job (two reads, two watches): the run stays Running/Finishing until that pod's end is seen, never
     * Failed on a result not yet read (a final phase is never revisited). It cannot wait forever: the pod's end, or its
     * removal, reaches the pod list and triggers the next pass.
     */
    static Outcome completed(Observation o) {
        // a gang's result is rank 0's: the other ranks write no termination message
        List<Pod> reporting = o.pods().stream().filter(p -> GangFacts.reports(o.resource().getSpec(), p)).toList();
        Optional<Pod> pod = PodFacts.lastFinished(reporting, "Succeeded");
        Optional<Pod> unseen = pod.isPresent() ? Optional.empty() : reporting.stream().filter(p -> !PodFacts.finished(p)).findFirst();
        if (unseen.isPresent()) {
            return Outcome.running(StatusReason.Finishing, "the Job completed; waiting to read the result of pod "
                    + unseen.get().getMetadata().getName() + (GangFacts.isGang(o.resource().getSpec()) ? " (rank 0)" : ""));
        }
        String message = pod.flatMap(PodFacts::terminated).map(ContainerStateTerminated::getMessage).orElse(null);
        Optional<TrainerReport.Success> gate = TrainerReport.gateFailed(message);
        if (gate.isPresent()) {   // metrics recorded, no artifact
            return Outcome.failed(StatusReason.EvaluationGateFailed, gate.get().problem()).withSuccess(gate.get());
        }
        TrainerReport.Success report = TrainerReport.success(message, destination(o.resource()));
        if (report.problem() != null) {
            return Outcome.failed(StatusReason.TrainerError, report.problem());
        }
        Integer best = report.metrics() == null ? null : report.metrics().bestStep;
        return Outcome.of(Phase.Succeeded, StatusReason.Succeeded, "artifact written to " + report.artifact().uri,
                Conditions.of(ConditionType.Running, false, StatusReason.Succeeded, "the trainer finished"),
                Conditions.of(ConditionType.Succeeded, true, StatusReason.Succeeded, "artifact " + report.artifact().uri
                        + " (" + report.artifact().digest + ")" + (best == null ? "" : ", the weights of step " + best
                        + " (lowest eval loss)"))).withSuccess(report);
    }

    /** Failed/ImagePullBackOff once the kubelet backs off (ErrImagePull alone can be a registry hiccup). */
    static Optional<Outcome> imagePullFailed(List<Pod> pods) {
        for (Pod pod : pods) {
            Optional<ContainerStateWaiting> waiting = PodFacts.waiting(pod).filter(w -> PodFacts.IMAGE_FAILURES.contains(w.getReason()));
            if (waiting.isPresent() && !"ErrImagePull".equals(waiting.get().getReason())) {
                return Optional.of(Outcome.failed(StatusReason.ImagePullBackOff, "image "
                        + pod.getSpec().getContainers().get(0).getImage() + " cannot be pulled: " + waiting.get().getReason()
                        + (waiting.get().getMessage() != null ? ": " + TrainerReport.clip(waiting.get().getMessage()) : "")));
            }
        }
        return Optional.empty();
    }

    /** Suspended (spec.suspend), naming the step it resumes from. */
    static Outcome suspended(FineTuneJob resource) {
        String at = resource.getStatus() != null && resource.getStatus().progress != null
                && resource.getStatus().progress.summary != null ? " at step " + resource.getStatus().progress.summary : "";
        return Outcome.of(Phase.Suspended, StatusReason.Suspended, "suspended (spec.suspend)" + at
                        + "; set spec.suspend to false to resume from its checkpoint",
                Conditions.of(ConditionType.Suspended, true, StatusReason.Suspended, "spec.suspend is true: no training pod runs"),
                Conditions.of(ConditionType.Running, false, StatusReason.Suspended, "the Job is suspended"));
    }

    /** A Job that may run: what its pods show, from the most to the least advanced. */
    static Outcome active(List<Pod> pods) {
        return stopping(pods).or(() -> running(pods)).or(() -> finishing(pods)).or(() -> unschedulable(pods))
                .or(() -> retrying(pods))
                .orElseGet(() -> Outcome.pending(StatusReason.Pending, "waiting for the training pod to start"));
    }

    /** Running/Preempted while a running pod is being deleted: the trainer got SIGTERM and checkpoints. */
    static Optional<Outcome> stopping(List<Pod> pods) {
        return runningPod(pods).filter(p -> p.getMetadata().getDeletionTimestamp() != null).map(p -> Outcome.running(
                StatusReason.Preempted, "pod " + p.getMetadata().getName() + " is being deleted (eviction, preemption, drain or"
                        + " suspend): the trainer got SIGTERM and checkpoints its current step before it exits"));
    }

    /** Running/Running: a pod trains. */
    static Optional<Outcome> running(List<Pod> pods) {
        return runningPod(pods).map(p -> Outcome.of(Phase.Running, StatusReason.Running, "training in pod " + p.getMetadata().getName(),
                Conditions.of(ConditionType.Scheduled, true, StatusReason.Scheduled, "on node " + p.getSpec().getNodeName()),
                Conditions.of(ConditionType.Running, true, StatusReason.Running, "pod " + p.getMetadata().getName() + " is training")));
    }

    /**
     * Running/Finishing (or Preempted) when every pod has exited: the kubelet reports a finished pod before the Job
     * controller updates the Job; until it does (Complete, Failed, or a retry pod after its back-off), the run stays where
     * it was instead of going back to Pending.
     */
    static Optional<Outcome> finishing(List<Pod> pods) {
        if (pods.isEmpty() || !pods.stream().allMatch(PodFacts::finished)) {
            return Optional.empty();
        }
        Pod pod = PodFacts.lastFinished(pods, "Succeeded").or(() -> PodFacts.lastFinished(pods, "Failed")).orElseThrow();
        if (PodFacts.preempted(pod)) {
            return Optional.of(preempted(pod, "the Job controller starts a retry pod that resumes"));
        }
        return Optional.of(Outcome.running(StatusReason.Finishing, "pod " + pod.getMetadata().getName() + " exited ("
                + PodFacts.phase(pod) + "); waiting for the Job controller to record the outcome or start a retry"));
    }

    /** Pending/Unschedulable with the scheduler's message. */
    static Optional<Outcome> unschedulable(List<Pod> pods) {
        for (Pod pod : pods) {
            Optional<PodCondition> sched = PodFacts.scheduledCondition(pod);
            if (sched.isPresent() && "False".equals(sched.get().getStatus()) && "Unschedulable".equals(sched.get().getReason())) {
                String msg = "pod " + pod.getMetadata().getName() + " cannot be scheduled: " + TrainerReport.clip(sched.get().getMessage());
                return Optional.of(Outcome.of(Phase.Pending, StatusReason.Unschedulable, msg,
                        Conditions.of(ConditionType.Scheduled, false, StatusReason.Unschedulable, msg),
                        Conditions.of(ConditionType.Running, false, StatusReason.Pending, "waiting for a node")));
            }
        }
        return Optional.empty();
    }

    /**
     * Running/Retrying (or Preempted): the Job controller replaced a failed attempt with a pod that has not started yet,
     * so the run goes on instead of stepping back to Pending (a retry no node can take is Unschedulable).
     */
    static Optional<Outcome> retrying(List<Pod> pods) {
        return PodFacts.lastFinished(pods, "Failed").map(failed -> {
            String retry = pods.stream().filter(p -> !PodFacts.started(p)).map(p -> p.getMetadata().getName())
                    .findFirst().orElse("?");
            if (PodFacts.preempted(failed)) {
                return preempted(failed, "retry pod " + retry + " resumes");
            }
            String exit = PodFacts.terminated(failed).map(t -> " (" + t.getReason() + ", exit code " + t.getExitCode() + ")").orElse("");
            return Outcome.running(StatusReason.Retrying, "pod " + failed.getMetadata().getName() + " failed" + exit
                    + "; retry pod " + retry + " is starting");
        });
    }

    /** A trainer that stopped on SIGTERM after checkpointing: the run goes on (phase Running, reason Preempted). */
    static Outcome preempted(Pod pod, String next) {
        Optional<Long> steps = PodFacts.terminated(pod).flatMap(t -> TrainerResult.parse(t.getMessage())).map(TrainerResult::steps);
        return Outcome.running(StatusReason.Preempted, "pod " + pod.getMetadata().getName() + " was stopped by SIGTERM"
                + steps.map(k -> " after step " + k + " (checkpoint saved); " + next + " at step " + (k + 1))
                .orElse(" (checkpoint saved); " + next + " from it")
                + "; not counted against spec.backoffLimit");
    }

    private static Optional<Pod> runningPod(List<Pod> pods) {
        return pods.stream().filter(p -> "Running".equals(PodFacts.phase(p))).findFirst();
    }

    private static String destination(FineTuneJob resource) {
        return resource.getSpec() == null || resource.getSpec().output == null ? null : resource.getSpec().output.destination;
    }
}
