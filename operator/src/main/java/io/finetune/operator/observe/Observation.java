package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.util.List;

/**
 * What one reconcile pass saw of a FineTuneJob's world. The observer fills it before anything is changed; the act step
 * hands back the Job as it is after creating or patching it, and the pods are listed last (they exist only once the Job
 * does).
 *
 * @param resource          the FineTuneJob as read (its status is the previous status)
 * @param job               the training Job owned by this FineTuneJob, null when none exists (or it is a namesake's)
 * @param blocked           why the Job cannot be created yet (a namesake's Job is still being deleted), else null
 * @param specChangeIgnored why the live spec is not the one the Job was built from, else null
 * @param preflightRequired true while the GPU Job waits for a preflight (spec.preflight Auto, no PreflightPassed=True yet)
 * @param preflight         the preflight's verdict, null when there is none to apply
 * @param pods              the training pods (preflight pods excluded)
 */
public record Observation(FineTuneJob resource, Job job, String blocked, String specChangeIgnored, boolean preflightRequired,
                          PreflightVerdict preflight, List<Pod> pods) {
    /** Observed state of a FineTuneJob that has a Job and pods and nothing else to report (tests, derivations). */
    public static Observation of(FineTuneJob resource, Job job, List<Pod> pods) {
        return new Observation(resource, job, null, null, false, null, pods);
    }

    /** No Job and nothing in the way: the pass validates the spec and creates the Job (after the preflight). */
    public boolean jobMissing() {
        return job == null && blocked == null;
    }

    public Observation withJob(Job newJob) {
        return new Observation(resource, newJob, blocked, specChangeIgnored, preflightRequired, preflight, pods);
    }

    public Observation withPreflight(PreflightVerdict verdict) {
        return new Observation(resource, job, blocked, specChangeIgnored, preflightRequired, verdict, pods);
    }

    public Observation withPods(List<Pod> newPods) {
        return new Observation(resource, job, blocked, specChangeIgnored, preflightRequired, preflight, newPods);
    }
}
