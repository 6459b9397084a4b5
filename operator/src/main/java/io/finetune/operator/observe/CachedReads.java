package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import java.util.List;
import java.util.Objects;

/**
 * Reads the Jobs and pods of a FineTuneJob from the informers the controller's event sources run (attached once they
 * exist, before JOSDK's first pass): a pass asks the API server nothing for them. Two views a cache alone would get
 * wrong are handled here:
 * <ul>
 *   <li>a Job or pod the operator just wrote is served as written ({@link #wrote}) until the watch catches up, so a
 *       pass right after a create or patch never acts on the older copy (a Job created twice is also refused by the
 *       server with 409, which the act step reads as "exists");</li>
 *   <li>the Job and pod informers are two watches: the Job may arrive newer than its pods (Complete or Failed while the
 *       pod that ended it still shows running). A finished Job's pods are then read once more live, so the final status
 *       (its reason comes from the pod) is never derived from the stale pod view. That happens at most on the passes
 *       between a Job's end and its pod's watch event.</li>
 * </ul>
 */
public final class CachedReads implements ClusterReads {
    private final ClusterReads live;
    private volatile InformerCache<Job> jobs;
    private volatile InformerCache<Pod> pods;

    public CachedReads(ClusterReads live) {
        this.live = live;
    }

    /** Called when the event sources are built (before they start, so an index can still be added to them). */
    public void attach(InformerCache<Job> jobCache, InformerCache<Pod> podCache) {
        this.jobs = Objects.requireNonNull(jobCache);
        this.pods = Objects.requireNonNull(podCache);
    }

    @Override
    public Job job(String namespace, String name) {
        return jobs().get(namespace, name).orElse(null);
    }

    @Override
    public List<Pod> pods(String namespace, String fineTuneJob, Job jobAsSeen) {
        List<Pod> cached = pods().ofFineTuneJob(namespace, fineTuneJob);
        return jobAsSeen != null && JobFacts.finished(jobAsSeen) && cached.stream().anyMatch(CachedReads::stillRunning)
                ? live.pods(namespace, fineTuneJob, jobAsSeen) : cached;
    }

    /** A training pod neither finished nor being deleted (the Job controller deletes what runs when a Job fails). */
    private static boolean stillRunning(Pod p) {
        return !Names.PREFLIGHT.equals(p.getMetadata().getLabels().get(Names.COMPONENT_LABEL))
                && p.getMetadata().getDeletionTimestamp() == null && !PodFacts.finished(p);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends HasMetadata> void wrote(FineTuneJob owner, T previous, T written) {
        String ns = owner.getMetadata().getNamespace();
        String name = owner.getMetadata().getName();
        if (written instanceof Job j) {
            jobs().wrote(ns, name, (Job) previous, j);
        } else if (written instanceof Pod p) {
            pods().wrote(ns, name, (Pod) previous, p);
        }
    }

    private InformerCache<Job> jobs() {
        return Objects.requireNonNull(jobs, "the Job informer is not attached yet");
    }

    private InformerCache<Pod> pods() {
        return Objects.requireNonNull(pods, "the pod informer is not attached yet");
    }
}
