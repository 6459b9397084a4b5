package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.finetune.api.PreflightResult;
import io.finetune.api.v1alpha1.PreflightStatus;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the CPU preflight stands, read from its Job and its pod's termination message ({@link PreflightResult}): passed
 * (report), failed (reason, message, report) or still running (message). Until it passed, the GPU Job is not created; a
 * failed preflight is final.
 *
 * @param failure why it failed (PreflightError when the pod exited without a verdict); null when passed or running
 */
public record PreflightVerdict(boolean passed, PreflightResult.Reason failure, String message, PreflightStatus report) {
    public boolean running() {
        return !passed && failure == null;
    }

    /** The verdict of a freshly created preflight Job. */
    public static PreflightVerdict started(String jobName) {
        return new PreflightVerdict(false, null, "preflight Job " + jobName + " checks the dataset, targetModules, "
                + "the memory plan and storage before a GPU is requested", null);
    }

    /** The verdict of preflight Job {@code job} from its pods (labelled as preflight pods of the FineTuneJob). */
    static PreflightVerdict read(Job job, List<Pod> pods) {
        Optional<ContainerStateTerminated> term = pods.stream().map(PodFacts::terminated).flatMap(Optional::stream).findFirst();
        if (term.isPresent()) {
            Optional<PreflightResult> r = PreflightResult.parse(term.get().getMessage());
            if (r.isPresent()) {
                PreflightResult v = r.get();
                return v.passed() ? new PreflightVerdict(true, null, v.message(), v.report())
                        : new PreflightVerdict(false, Objects.requireNonNull(v.reason(), "reason"), v.message(), v.report());
            }
            String tail = term.get().getMessage() == null ? "" : term.get().getMessage().strip();
            return new PreflightVerdict(false, PreflightResult.Reason.PreflightError, "the preflight pod exited with code "
                    + term.get().getExitCode() + " without a verdict"
                    + (tail.isEmpty() ? "" : ": " + tail.substring(Math.max(0, tail.length() - 400))), null);
        }
        Optional<JobCondition> failed = JobFacts.failed(job);
        // A Job read as Failed while its pod still shows no end is a view older for the pod than for the Job (two
        // informers): its verdict is on the way, so wait for it (the pod's update triggers the next pass) instead of
        // ending the run with PreflightError; with no pod in view the Job's own failure is all there is.
        boolean verdictOnTheWay = pods.stream().anyMatch(p -> PodFacts.terminated(p).isEmpty() && !PodFacts.finished(p));
        if (failed.isPresent() && !verdictOnTheWay) {
            JobCondition c = failed.get();
            return new PreflightVerdict(false, PreflightResult.Reason.PreflightError, "preflight Job " + job.getMetadata().getName()
                    + " failed: " + c.getReason() + " " + (c.getMessage() == null ? "" : c.getMessage()), null);
        }
        return new PreflightVerdict(false, null, "preflight Job " + job.getMetadata().getName() + " is checking the dataset, "
                + "targetModules, the memory plan and storage", null);
    }
}
