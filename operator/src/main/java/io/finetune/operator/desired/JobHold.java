package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.operator.observe.GangFacts;
import io.finetune.operator.observe.JobFacts;
import java.util.Optional;

/**
 * Who holds a training Job, and the one patch that keeps it where the spec (and Kueue) want it. The only field the operator
 * changes on a Job after creating it besides the attempt ledger.
 *
 * <p>Without a queue the operator owns the hold: {@code spec.suspend} is mirrored (suspend plus parallelism 0, since a 1.20
 * API server drops spec.suspend and parallelism 0 is the hold every Job controller honours; released, parallelism is 1, or
 * spec.resources.nodes for a gang).
 *
 * <p>With {@code spec.queueName} admission is Kueue's (Kueue unsuspends an admitted Job and injects node selectors; an
 * eviction suspends it again), so the operator never releases a hold: the Job is created held, {@code spec.suspend: true}
 * holds it (suspending always works), {@code spec.suspend: false} only stops the operator holding it. Where the server keeps
 * spec.suspend, parallelism stays 1 or a gang's nodes (the size of
 * the workload Kueue accounts); where it drops the field (1.20), parallelism
 * 0 is the hold and whoever plays Kueue releases it by setting parallelism 1 (nodes).
 */
public final class JobHold {
    /**
     * A merge patch of the Job's spec.
     *
     * @param suspend     spec.suspend to write, null to leave it
     * @param parallelism spec.parallelism to write, null to leave it
     * @param released    the operator released its own hold (the Resumed event)
     */
    public record Patch(Boolean suspend, Integer parallelism, boolean released) {
        String json() {
            StringBuilder b = new StringBuilder("{\"spec\":{");
            if (suspend != null) {
                b.append("\"suspend\":").append(suspend);
            }
            if (parallelism != null) {
                b.append(suspend != null ? "," : "").append("\"parallelism\":").append(parallelism);
            }
            return b.append("}}").toString();
        }
    }

    private JobHold() {
    }

    /** The Job's parallelism when nothing holds it: one pod, or every pod of a gang (spec.resources.nodes). */
    static int size(FineTuneJobSpec spec) {
        return GangFacts.nodes(spec);
    }

    /** True when Kueue, not the operator, admits this FineTuneJob's Job. */
    public static boolean queued(FineTuneJobSpec spec) {
        return spec != null && spec.queueName != null;
    }

    /** Whether the Job is created held: spec.suspend, or a queue (Kueue admits it). */
    static boolean heldAtCreation(FineTuneJobSpec spec) {
        return Boolean.TRUE.equals(spec.suspend) || queued(spec);
    }

    /** The patch that brings {@code job} to the hold the spec wants; empty when it is there (or the Job has ended). */
    static Optional<Patch> wanted(FineTuneJobSpec spec, Job job) {
        if (spec == null || JobFacts.finished(job)) {
            return Optional.empty();
        }
        boolean suspend = Boolean.TRUE.equals(spec.suspend);
        boolean held = JobFacts.suspended(job);
        if (!queued(spec)) {
            if (suspend == held) {
                return Optional.empty();
            }
            return Optional.of(suspend ? new Patch(true, 0, false) : new Patch(false, size(spec), true));
        }
        Integer parallelism = job.getSpec().getParallelism();
        boolean serverKeepsSuspend = job.getSpec().getSuspend() != null;
        if (serverKeepsSuspend) {
            boolean hold = suspend && !Boolean.TRUE.equals(job.getSpec().getSuspend());
            boolean size = !Integer.valueOf(size(spec)).equals(parallelism);
            return hold || size ? Optional.of(new Patch(hold ? Boolean.TRUE : null, size ? size(spec) : null, false)) : Optional.empty();
        }
        return suspend && !Integer.valueOf(0).equals(parallelism) ? Optional.of(new Patch(true, 0, false)) : Optional.empty();
    }
}
