package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.util.Optional;

/**
 * Reads what matters from a Job's spec and status: whether the Job controller recorded an end (Complete or Failed), whether
 * the Job is held (suspended), when it ended. The one place these are read, so the act step (which must not touch a
 * finished Job) and the status step (which reports it) cannot disagree.
 */
public final class JobFacts {
    /** The batch/v1 Job condition types the operator reads (Kubernetes' names). */
    public enum ConditionType {
        Complete, Failed
    }

    private JobFacts() {
    }

    /** The Job's condition of {@code type} when it is True. */
    public static Optional<JobCondition> condition(Job job, ConditionType type) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return job.getStatus().getConditions().stream()
                .filter(c -> type.name().equals(c.getType()) && "True".equals(c.getStatus())).findFirst();
    }

    public static Optional<JobCondition> failed(Job job) {
        return condition(job, ConditionType.Failed);
    }

    public static boolean complete(Job job) {
        return condition(job, ConditionType.Complete).isPresent();
    }

    /** The Job controller recorded an end: nothing about the Job may change any more. */
    public static boolean finished(Job job) {
        return complete(job) || failed(job).isPresent();
    }

    /**
     * spec.suspend (Kubernetes 1.21+), or parallelism 0: a 1.20 API server drops spec.suspend (the field does not exist
     * there), so the operator also sets parallelism to 0, which makes every Job controller delete the pod (SIGTERM, grace
     * period) and start none.
     */
    public static boolean suspended(Job job) {
        return Boolean.TRUE.equals(job.getSpec().getSuspend()) || Integer.valueOf(0).equals(job.getSpec().getParallelism());
    }

    /** When the Job ended: its completionTime, else the Failed condition's transition time. */
    public static Optional<String> completionTime(Job job) {
        if (job == null || job.getStatus() == null) {
            return Optional.empty();
        }
        if (job.getStatus().getCompletionTime() != null) {
            return Optional.of(job.getStatus().getCompletionTime());
        }
        return failed(job).map(JobCondition::getLastTransitionTime);
    }
}
