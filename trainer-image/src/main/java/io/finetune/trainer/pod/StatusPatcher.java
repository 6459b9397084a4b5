package io.finetune.trainer.pod;

import io.finetune.api.v1alpha1.Progress;

/** Writes {@code status.progress} of one FineTuneJob. One call = one request; retrying is the caller's business. */
public interface StatusPatcher extends AutoCloseable {

    /** Sends the progress; throws on any failure (network, 403, 5xx...). */
    void patchProgress(Progress progress) throws Exception;

    /** What is patched, for log lines ("namespace/name"). */
    String target();

    @Override
    default void close() {
    }
}
