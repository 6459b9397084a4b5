package io.finetune.api.v1alpha1;

/** Lifecycle phase of a FineTuneJob, derived by the operator from its Job and pods. */
public enum Phase {
    Pending, Running, Succeeded, Failed, Suspended;

    public boolean isFinal() {
        return this == Succeeded || this == Failed;
    }
}
