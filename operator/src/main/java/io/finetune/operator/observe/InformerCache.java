package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Optional;

/**
 * One kind's informer cache as {@link CachedReads} needs it, so that the observe step depends on no JOSDK type (the
 * operator adapts JOSDK's InformerEventSource, a test a plain fabric8 informer).
 */
public interface InformerCache<T extends HasMetadata> {
    Optional<T> get(String namespace, String name);

    /** The cached objects labelled {@code finetune.io/job-name=<fineTuneJob>} in {@code namespace} (an index, not a scan). */
    List<T> ofFineTuneJob(String namespace, String fineTuneJob);

    /** Serve {@code written} (created when {@code previous} is null) until the watch delivers it or something newer. */
    void wrote(String namespace, String fineTuneJob, T previous, T written);
}
