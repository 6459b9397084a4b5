package io.finetune.api.v1alpha1;

/**
 * Lifecycle phase of a FineTuneJob, derived by the operator from its Job and pods. {@code Queued}: the Job waits for
 * Kueue to admit it (spec.queueName), before its first run or after an eviction.
 */
public enum Phase {
    Pending, Queued, Running, Succeeded, Failed, Suspended;

    public boolean isFinal() {
        return this == Succeeded || this == Failed;
    }
}
