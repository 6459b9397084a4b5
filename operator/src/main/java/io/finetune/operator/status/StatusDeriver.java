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
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.api.v1alpha1.PreflightMode;
import io.finetune.operator.observe.Observation;
import io.finetune.operator.observe.PodFacts;
import io.finetune.operator.observe.PreflightVerdict;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Pure function from what was observed (the FineTuneJob, its Job and pods, the preflight's verdict) to the operator-owned
 * status fields, and the one owner of phase reasons: {@link #derive} writes them, {@link #recordedReason} reads them back.
 * {@code progress} is copied through untouched: the trainer owns it.
 */
public final class StatusDeriver {
    /** Reason (phase Running) after a trainer stopped on SIGTERM with a checkpoint and exit code 75. */
    public static final String PREEMPTED = "Preempted";
    /** Reason (phase Pending) while the CPU preflight runs. */
    public static final String PREFLIGHT = "Preflight";

    /** The new status and the reason of its phase (for events). */
    public record Derived(FineTuneJobStatus status, String reason, String message) {
        public Phase phase() {
            return status.phase;
        }
    }

    private StatusDeriver() {
    }

    /**
     * The status for what a pass observed.
     *
     * @param violations spec violations (only checked before the Job exists)
     * @param clock      the pass's time: transition, start and completion times
     */
    public static Derived derive(Observation o, List<Violation> violations, Instant clock) {
        Derived derived = deriveRun(o, violations, clock);
        return o.preflight() == null ? derived : withPreflight(derived, o.preflight(), o.resource().getMetadata().getGeneration(), clock);
    }

    private static Derived deriveRun(Observation o, List<Violation> violations, Instant clock) {
        FineTuneJobStatus prev = o.resource().getStatus() != null ? o.resource().getStatus() : new FineTuneJobStatus();
        String now = clock.toString();
        Long generation = o.resource().getMetadata().getGeneration();
        List<Condition> want = new ArrayList<>();
        Outcome outcome = outcome(o, violations, want);

        FineTuneJobStatus s = new FineTuneJobStatus();
        s.phase = outcome.phase;
        s.message = outcome.message;
        s.observedGeneration = generation;
        s.progress = prev.progress;
        s.preflight = prev.preflight;
        s.artifact = outcome.success != null ? outcome.success.artifact() : null;
        s.metrics = outcome.success != null ? outcome.success.metrics() : null;
        s.memory = outcome.success != null ? outcome.success.memory() : null;
        s.attempts = attempts(prev, o);
        s.startTime = prev.startTime != null ? prev.startTime
                : o.pods().stream().filter(PodFacts::started).map(p -> PodFacts.startTime(p).orElse(now)).sorted().findFirst().orElse(null);
        if (s.phase.isFinal()) {
            s.completionTime = prev.completionTime != null ? prev.completionTime : completionTime(o.job()).orElse(now);
        }
        s.usage = o.job() != null ? AttemptLedger.usage(AttemptLedger.read(o.job())) : prev.usage;
        if (s.usage != null && s.usage.attempts != null && s.usage.attempts > (s.attempts == null ? 0 : s.attempts)) {
            s.attempts = s.usage.attempts;   // the ledger also remembers pods deleted before the Job controller counted them
        }
        Readiness.add(want, s.phase, outcome.reason, outcome.message);
        want.add(Conditions.of(ConditionType.SpecChangeIgnored, o.specChangeIgnored() != null,
                o.specChangeIgnored() != null ? "SpecChangeIgnored" : "SpecUnchanged",
                o.specChangeIgnored() != null ? o.specChangeIgnored() : "the running Job matches the spec"));
        ServingAdvice.condition(o.resource()).ifPresent(want::add);
        s.conditions = Conditions.merge(prev.conditions, want, now, generation);
        if (Conditions.find(prev.conditions, ConditionType.SpecChangeIgnored).isEmpty() && o.specChangeIgnored() == null) {
            s.conditions.removeIf(c -> ConditionType.SpecChangeIgnored.name().equals(c.getType()));
        }
        return new Derived(s, outcome.reason, outcome.message);
    }

    private record Outcome(Phase phase, String reason, String message, TrainerReport.Success success) {
    }

    private static Outcome outcome(Observation o, List<Violation> violations, List<Condition> want) {
        if (!violations.isEmpty()) {
            String msg = violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
            want.add(Conditions.of(ConditionType.Valid, false, FailureReason.InvalidSpec.name(), msg));
            return failed(want, FailureReason.InvalidSpec, msg);
        }
        want.add(Conditions.of(ConditionType.Valid, true, "Valid", "the spec passed validation"));
        Job job = o.job();
        if (job == null) {
            String msg = o.blocked() != null ? o.blocked() : "creating the training Job";
            return pending(want, o.blocked() != null ? "Blocked" : "Creating", msg);
        }
        Optional<JobCondition> failed = jobCondition(job, "Failed");
        if (failed.isPresent()) {
            return jobFailed(o, want, failed.get());
        }
        if (jobCondition(job, "Complete").isPresent()) {
            Optional<Pod> pod = PodFacts.lastFinished(o.pods(), "Succeeded");
            String message = pod.flatMap(PodFacts::terminated).map(ContainerStateTerminated::getMessage).orElse(null);
            Optional<TrainerReport.Success> gate = TrainerReport.gateFailed(message);
            if (gate.isPresent()) {
                Outcome f = failed(want, FailureReason.EvaluationGateFailed, gate.get().problem());
                return new Outcome(f.phase(), f.reason(), f.message(), gate.get());   // metrics recorded, no artifact
            }
            TrainerReport.Success report = TrainerReport.success(message, destination(o.resource()));
            if (report.problem() != null) {
                return failed(want, FailureReason.TrainerError, report.problem());
            }
            want.add(Conditions.of(ConditionType.Running, false, "Succeeded", "the trainer finished"));
            Integer best = report.metrics() == null ? null : report.metrics().bestStep;
            want.add(Conditions.of(ConditionType.Succeeded, true, "Succeeded", "artifact " + report.artifact().uri
                    + " (" + report.artifact().digest + ")" + (best == null ? "" : ", the weights of step " + best
                    + " (lowest eval loss)")));
            return new Outcome(Phase.Succeeded, "Succeeded", "artifact written to " + report.artifact().uri, report);
        }
        for (Pod pod : o.pods()) {
            Optional<ContainerStateWaiting> waiting = PodFacts.waiting(pod).filter(w -> PodFacts.IMAGE_FAILURES.contains(w.getReason()));
            // ErrImagePull alone can be a registry hiccup; the kubelet's back-off (or a malformed name) is final.
            if (waiting.isPresent() && !"ErrImagePull".equals(waiting.get().getReason())) {
                return failed(want, FailureReason.ImagePullBackOff, "image " + pod.getSpec().getContainers().get(0).getImage()
                        + " cannot be pulled: " + waiting.get().getReason()
                        + (waiting.get().getMessage() != null ? ": " + TrainerReport.clip(waiting.get().getMessage()) : ""));
            }
        }
        if (isSuspended(job)) {
            want.add(Conditions.of(ConditionType.Suspended, true, "Suspended", "spec.suspend is true: no training pod runs"));
            want.add(Conditions.of(ConditionType.Running, false, "Suspended", "the Job is suspended"));
            String at = o.resource().getStatus() != null && o.resource().getStatus().progress != null
                    && o.resource().getStatus().progress.summary != null
                    ? " at step " + o.resource().getStatus().progress.summary : "";
            return new Outcome(Phase.Suspended, "Suspended", "suspended (spec.suspend)" + at
                    + "; set spec.suspend to false to resume from its checkpoint", null);
        }
        want.add(Conditions.of(ConditionType.Suspended, false, "Resumed", "spec.suspend is false"));
        Optional<Pod> running = o.pods().stream().filter(p -> "Running".equals(PodFacts.phase(p))).findFirst();
        if (running.isPresent() && running.get().getMetadata().getDeletionTimestamp() != null) {
            String msg = "pod " + running.get().getMetadata().getName() + " is being deleted (eviction, preemption, drain or"
                    + " suspend): the trainer got SIGTERM and checkpoints its current step before it exits";
            want.add(Conditions.of(ConditionType.Running, true, PREEMPTED, msg));
            return new Outcome(Phase.Running, PREEMPTED, msg, null);
        }
        if (running.isPresent()) {
            want.add(Conditions.of(ConditionType.Scheduled, true, "Scheduled", "on node " + running.get().getSpec().getNodeName()));
            want.add(Conditions.of(ConditionType.Running, true, "Running", "pod " + running.get().getMetadata().getName() + " is training"));
            return new Outcome(Phase.Running, "Running", "training in pod " + running.get().getMetadata().getName(), null);
        }
        if (!o.pods().isEmpty() && o.pods().stream().allMatch(PodFacts::finished)) {
            // The kubelet reports a finished pod before the Job controller updates the Job: until it does (Complete,
            // Failed, or a retry pod after its back-off), the run stays where it was instead of going back to Pending.
            Pod pod = PodFacts.lastFinished(o.pods(), "Succeeded").or(() -> PodFacts.lastFinished(o.pods(), "Failed")).orElseThrow();
            if (PodFacts.preempted(pod)) {
                return preempted(want, pod, "the Job controller starts a retry pod that resumes");
            }
            String msg = "pod " + pod.getMetadata().getName() + " exited (" + PodFacts.phase(pod)
                    + "); waiting for the Job controller to record the outcome or start a retry";
            want.add(Conditions.of(ConditionType.Running, true, "Finishing", msg));
            return new Outcome(Phase.Running, "Finishing", msg, null);
        }
        for (Pod pod : o.pods()) {
            Optional<PodCondition> sched = PodFacts.scheduledCondition(pod);
            if (sched.isPresent() && "False".equals(sched.get().getStatus()) && "Unschedulable".equals(sched.get().getReason())) {
                String msg = "pod " + pod.getMetadata().getName() + " cannot be scheduled: " + TrainerReport.clip(sched.get().getMessage());
                want.add(Conditions.of(ConditionType.Scheduled, false, "Unschedulable", msg));
                want.add(Conditions.of(ConditionType.Running, false, "Pending", "waiting for a node"));
                return new Outcome(Phase.Pending, "Unschedulable", msg, null);
            }
        }
        Optional<Pod> failedAttempt = PodFacts.lastFinished(o.pods(), "Failed");
        if (failedAttempt.isPresent()) {
            // The Job controller replaced a failed attempt with a pod that has not started yet: the run goes on (Running,
            // reason Retrying) instead of stepping back to Pending and forth (a retry no node can take is Unschedulable above).
            String retry = o.pods().stream().filter(p -> !PodFacts.started(p)).map(p -> p.getMetadata().getName())
                    .findFirst().orElse("?");
            if (PodFacts.preempted(failedAttempt.get())) {
                return preempted(want, failedAttempt.get(), "retry pod " + retry + " resumes");
            }
            String exit = PodFacts.terminated(failedAttempt.get())
                    .map(t -> " (" + t.getReason() + ", exit code " + t.getExitCode() + ")").orElse("");
            String msg = "pod " + failedAttempt.get().getMetadata().getName() + " failed" + exit + "; retry pod " + retry
                    + " is starting";
            want.add(Conditions.of(ConditionType.Running, true, "Retrying", msg));
            return new Outcome(Phase.Running, "Retrying", msg, null);
        }
        return pending(want, "Pending", "waiting for the training pod to start");
    }

    private static Outcome jobFailed(Observation o, List<Condition> want, JobCondition failed) {
        if ("DeadlineExceeded".equals(failed.getReason())) {
            return failed(want, FailureReason.DeadlineExceeded, "the Job ran longer than spec.activeDeadlineSeconds="
                    + (o.resource().getSpec() == null ? null : o.resource().getSpec().activeDeadlineSeconds) + "s");
        }
        Optional<Pod> last = PodFacts.lastFinished(o.pods(), "Failed");
        Optional<ContainerStateTerminated> term = last.flatMap(PodFacts::terminated);
        if (term.isPresent() && "OOMKilled".equals(term.get().getReason())) {
            return failed(want, FailureReason.OOMKilled, "the trainer exceeded its memory limit (exit code "
                    + term.get().getExitCode() + "); raise spec.resources.memory or lower spec.training.batchSize");
        }
        Optional<String> trainer = term.flatMap(t -> TrainerReport.failure(t.getMessage()));
        if (trainer.isPresent()) {
            return failed(want, FailureReason.TrainerError, trainer.get());
        }
        String detail = term.map(t -> "; last exit code " + t.getExitCode()).orElse("");
        return failed(want, FailureReason.BackoffLimitExceeded, "the training pod failed "
                + (o.job().getStatus().getFailed() == null ? "" : o.job().getStatus().getFailed() + " time(s)")
                + ", more than spec.backoffLimit=" + o.job().getSpec().getBackoffLimit() + detail
                + (failed.getMessage() != null ? " (" + failed.getMessage() + ")" : ""));
    }

    /** A trainer that stopped on SIGTERM after checkpointing: the run goes on (phase Running, reason Preempted). */
    private static Outcome preempted(List<Condition> want, Pod pod, String next) {
        Optional<Long> steps = PodFacts.terminated(pod).flatMap(t -> TrainerResult.parse(t.getMessage())).map(TrainerResult::steps);
        String msg = "pod " + pod.getMetadata().getName() + " was stopped by SIGTERM"
                + steps.map(k -> " after step " + k + " (checkpoint saved); " + next + " at step " + (k + 1))
                .orElse(" (checkpoint saved); " + next + " from it")
                + "; not counted against spec.backoffLimit";
        want.add(Conditions.of(ConditionType.Running, true, PREEMPTED, msg));
        return new Outcome(Phase.Running, PREEMPTED, msg, null);
    }

    /** The derived status with the preflight's state: Pending while it runs, Failed with its reason, or its figures. */
    private static Derived withPreflight(Derived derived, PreflightVerdict v, Long generation, Instant clock) {
        FineTuneJobStatus s = derived.status();
        String now = clock.toString();
        List<Condition> want = new ArrayList<>();
        if (v.report() != null) {
            s.preflight = v.report();
        }
        if (v.passed()) {
            want.add(Conditions.of(ConditionType.PreflightPassed, true, "Passed", v.message()));
            s.conditions = Conditions.merge(s.conditions, want, now, generation);
            return derived;
        }
        if (v.running()) {
            want.add(Conditions.of(ConditionType.Running, false, "Pending", v.message()));
            s.conditions = Conditions.merge(s.conditions, want, now, generation);
            s.phase = Phase.Pending;
            s.message = v.message();
            return new Derived(s, PREFLIGHT, v.message());
        }
        FailureReason failure = FailureReason.valueOf(v.failure().name());
        want.add(Conditions.of(ConditionType.PreflightPassed, false, failure.name(), v.message()));
        want.add(Conditions.of(ConditionType.Running, false, "Failed", "the preflight failed: no GPU Job was created"));
        want.add(Conditions.of(ConditionType.Failed, true, failure.name(), v.message()));
        s.conditions = Conditions.merge(s.conditions, want, now, generation);
        s.phase = Phase.Failed;
        s.message = v.message();
        if (s.completionTime == null) {
            s.completionTime = now;
        }
        return new Derived(s, failure.name(), v.message());
    }

    /**
     * True when the recorded status is final and stays so: finished runs are history (never recreate a Job whose pods were
     * cleaned up by ttlSecondsAfterFinished). An InvalidSpec failure created nothing; when the spec was edited since
     * (a server without CEL) it is checked again.
     */
    public static boolean isHistory(FineTuneJob resource) {
        FineTuneJobStatus prev = resource.getStatus();
        if (prev == null || prev.phase == null || !prev.phase.isFinal()) {
            return false;
        }
        boolean invalidSpecMayBeFixed = prev.phase == Phase.Failed
                && !Objects.equals(prev.observedGeneration, resource.getMetadata().getGeneration())
                && Conditions.find(prev.conditions, ConditionType.Valid).map(c -> "False".equals(c.getStatus())).orElse(false);
        return !invalidSpecMayBeFixed;
    }

    /** True while the GPU Job must wait for a preflight (spec.preflight Auto and no PreflightPassed=True yet). */
    public static boolean awaitsPreflight(FineTuneJob resource) {
        boolean skip = resource.getSpec() != null && resource.getSpec().preflight == PreflightMode.Skip;
        FineTuneJobStatus s = resource.getStatus();
        return !skip && !(s != null && Conditions.isTrue(s.conditions, ConditionType.PreflightPassed));
    }

    /**
     * The reason a recorded status is in, read back from the conditions {@link #derive} writes: the Failed condition's
     * reason, Scheduled=False's reason while Pending, Running=True's reason while Running (so a retry pod that starts
     * after Retrying or Finishing is a transition of its own), else the phase.
     */
    public static String recordedReason(FineTuneJobStatus s) {
        var conditions = s.conditions;
        return switch (s.phase) {
            case Failed -> Conditions.find(conditions, ConditionType.Failed).map(Condition::getReason).orElse("Failed");
            case Pending -> Conditions.find(conditions, ConditionType.Scheduled)
                    .filter(c -> "False".equals(c.getStatus())).map(Condition::getReason).orElse("Pending");
            case Running -> Conditions.find(conditions, ConditionType.Running)
                    .filter(c -> "True".equals(c.getStatus())).map(Condition::getReason).orElse("Running");
            default -> s.phase.name();
        };
    }

    private static Outcome failed(List<Condition> want, FailureReason reason, String message) {
        want.add(Conditions.of(ConditionType.Running, false, "Failed", "the run ended"));
        want.add(Conditions.of(ConditionType.Failed, true, reason.name(), message));
        return new Outcome(Phase.Failed, reason.name(), message, null);
    }

    private static Outcome pending(List<Condition> want, String reason, String message) {
        want.add(Conditions.of(ConditionType.Running, false, "Pending", message));
        return new Outcome(Phase.Pending, reason, message, null);
    }

    private static String destination(FineTuneJob resource) {
        return resource.getSpec() == null || resource.getSpec().output == null ? null : resource.getSpec().output.destination;
    }

    /**
     * spec.suspend (Kubernetes 1.21+), or parallelism 0: a 1.20 API server drops spec.suspend (the field does not exist
     * there), so the operator also sets parallelism to 0, which makes every Job controller delete the pod (SIGTERM, grace
     * period) and start none.
     */
    public static boolean isSuspended(Job job) {
        return Boolean.TRUE.equals(job.getSpec().getSuspend()) || Integer.valueOf(0).equals(job.getSpec().getParallelism());
    }

    private static Optional<JobCondition> jobCondition(Job job, String type) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return job.getStatus().getConditions().stream()
                .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus())).findFirst();
    }

    private static Optional<String> completionTime(Job job) {
        if (job == null || job.getStatus() == null) {
            return Optional.empty();
        }
        if (job.getStatus().getCompletionTime() != null) {
            return Optional.of(job.getStatus().getCompletionTime());
        }
        return jobCondition(job, "Failed").map(JobCondition::getLastTransitionTime);
    }

    /** Training pods started so far; monotonic because finished pods may be deleted (ttlSecondsAfterFinished). */
    private static Integer attempts(FineTuneJobStatus prev, Observation o) {
        int seen = (int) o.pods().stream().filter(PodFacts::started).count();
        if (o.job() != null && o.job().getStatus() != null) {
            int finished = nz(o.job().getStatus().getFailed()) + nz(o.job().getStatus().getSucceeded());
            int running = (int) o.pods().stream().filter(p -> "Running".equals(PodFacts.phase(p))).count();
            seen = Math.max(seen, finished + running);
        }
        int previous = prev.attempts == null ? 0 : prev.attempts;
        int attempts = Math.max(previous, seen);
        return attempts == 0 && prev.attempts == null ? null : attempts;
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
