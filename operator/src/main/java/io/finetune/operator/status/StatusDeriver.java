package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.api.v1alpha1.PreflightMode;
import io.finetune.operator.observe.GangFacts;
import io.finetune.operator.observe.JobFacts;
import io.finetune.operator.observe.Observation;
import io.finetune.operator.observe.PodFacts;
import io.finetune.operator.observe.PreflightVerdict;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Pure function from what was observed (the FineTuneJob, its Job and pods, the preflight's verdict) to the operator-owned
 * status fields, and the one owner of phase reasons: {@link #derive} writes them (the phase rules are in {@link PhaseRules}),
 * {@link #recordedReason} reads them back. {@code progress} is copied through untouched: the trainer owns it.
 */
public final class StatusDeriver {
    /** The new status and the reason of its phase (for events). */
    public record Derived(FineTuneJobStatus status, StatusReason reason, String message) {
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
        Outcome outcome = PhaseRules.outcome(o, violations);
        List<Condition> want = new ArrayList<>(outcome.conditions());

        FineTuneJobStatus s = new FineTuneJobStatus();
        s.phase = outcome.phase();
        s.message = outcome.message();
        s.observedGeneration = generation;
        s.progress = prev.progress;
        s.preflight = prev.preflight;
        s.artifact = outcome.success() != null ? outcome.success().artifact() : null;
        s.metrics = outcome.success() != null ? outcome.success().metrics() : null;
        s.memory = outcome.success() != null ? outcome.success().memory() : null;
        s.execution = outcome.success() != null ? outcome.success().execution() : null;
        s.attempts = attempts(prev, o);
        s.startTime = prev.startTime != null ? prev.startTime
                : o.pods().stream().filter(PodFacts::started).map(p -> PodFacts.startTime(p).orElse(now)).sorted().findFirst().orElse(null);
        if (s.phase.isFinal()) {
            s.completionTime = prev.completionTime != null ? prev.completionTime : JobFacts.completionTime(o.job()).orElse(now);
        }
        s.worldSize = o.job() != null ? Integer.valueOf(GangFacts.worldSize(o.resource().getSpec())) : prev.worldSize;
        s.usage = o.job() != null ? AttemptLedger.usage(AttemptLedger.read(o.job())) : prev.usage;
        if (s.usage != null && s.usage.attempts != null && s.usage.attempts > (s.attempts == null ? 0 : s.attempts)) {
            s.attempts = s.usage.attempts;   // the ledger also remembers pods deleted before the Job controller counted them
        }
        want.addAll(Readiness.of(s.phase, outcome.reason(), outcome.message()));
        want.add(Conditions.of(ConditionType.SpecChangeIgnored, o.specChangeIgnored() != null,
                o.specChangeIgnored() != null ? StatusReason.SpecChangeIgnored : StatusReason.SpecUnchanged,
                o.specChangeIgnored() != null ? o.specChangeIgnored() : "the running Job matches the spec"));
        ServingAdvice.condition(o.resource()).ifPresent(want::add);
        s.conditions = Conditions.merge(prev.conditions, want, now, generation);
        if (Conditions.find(prev.conditions, ConditionType.SpecChangeIgnored).isEmpty() && o.specChangeIgnored() == null) {
            s.conditions.removeIf(c -> ConditionType.SpecChangeIgnored.name().equals(c.getType()));
        }
        return new Derived(s, outcome.reason(), outcome.message());
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
            want.add(Conditions.of(ConditionType.PreflightPassed, true, StatusReason.Passed, v.message()));
            s.conditions = Conditions.merge(s.conditions, want, now, generation);
            return derived;
        }
        if (v.running()) {
            want.add(Conditions.of(ConditionType.Running, false, StatusReason.Pending, v.message()));
            s.conditions = Conditions.merge(s.conditions, want, now, generation);
            s.phase = Phase.Pending;
            s.message = v.message();
            return new Derived(s, StatusReason.Preflight, v.message());
        }
        StatusReason failure = StatusReason.valueOf(v.failure().name());
        want.add(Conditions.of(ConditionType.PreflightPassed, false, failure, v.message()));
        want.add(Conditions.of(ConditionType.Running, false, StatusReason.Failed, "the preflight failed: no GPU Job was created"));
        want.add(Conditions.of(ConditionType.Failed, true, failure, v.message()));
        s.conditions = Conditions.merge(s.conditions, want, now, generation);
        s.phase = Phase.Failed;
        s.message = v.message();
        if (s.completionTime == null) {
            s.completionTime = now;
        }
        return new Derived(s, failure, v.message());
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
     * after Retrying or Finishing is a transition of its own), else the phase's. A reason this operator does not write
     * (an older version's, a hand edit) reads as the phase's, so the next transition is still announced.
     */
    public static StatusReason recordedReason(FineTuneJobStatus s) {
        var conditions = s.conditions;
        var recorded = switch (s.phase) {
            case Failed -> Conditions.find(conditions, ConditionType.Failed).map(Condition::getReason);
            case Pending -> Conditions.find(conditions, ConditionType.Scheduled)
                    .filter(c -> "False".equals(c.getStatus())).map(Condition::getReason);
            case Running -> Conditions.find(conditions, ConditionType.Running)
                    .filter(c -> "True".equals(c.getStatus())).map(Condition::getReason);
            default -> java.util.Optional.<String>empty();
        };
        return recorded.flatMap(StatusReason::parse).orElse(StatusReason.of(s.phase));
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
