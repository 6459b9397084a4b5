package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.util.List;

/**
 * Where a pass reads the Jobs and pods of a FineTuneJob from: the informer caches the JOSDK event sources hold
 * ({@link CachedReads}, the operator) or the API server ({@link LiveReads}, the controller tests that call a pass without
 * JOSDK). Everything else in a pass is one code path; writes always go to the API server and are handed back through
 * {@link #wrote} so that a cache never answers the next pass with an object older than the operator's own write.
 */
public interface ClusterReads {
    /** The Job {@code name} in {@code namespace} (training or preflight), or null when none is known. */
    Job job(String namespace, String name);

    /**
     * Every pod labelled {@code finetune.io/job-name=<fineTuneJob>} (training and preflight pods).
     *
     * @param jobAsSeen the training Job as this pass read it (null when none): a view whose Job is finished while a pod of
     *                  it still runs is older for the pods than for the Job, and a cache then reads the pods again live
     */
    List<Pod> pods(String namespace, String fineTuneJob, Job jobAsSeen);

    /**
     * The operator wrote {@code written} (created when {@code previous} is null): a cache serves it (or anything newer)
     * from now on, even before its watch delivers the change. Nothing to do for live reads.
     */
    <T extends HasMetadata> void wrote(FineTuneJob owner, T previous, T written);
}
