package io.finetune.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.PreflightResult;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.observe.Observation;
import io.finetune.operator.observe.PreflightVerdict;
import io.finetune.operator.status.StatusDeriver.Derived;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pure deriver, one test per phase transition a user sees: the observation is built by hand (no API server), and each
 * test checks the phase, its reason (the wire value), the message and the conditions that say the same.
 */
class StatusDeriverTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:10:00Z");

    private static Derived derive(FineTuneJob ftj, Job job, Pod... pods) {
        return StatusDeriver.derive(Observation.of(ftj, job, List.of(pods)), List.of(), T0);
    }

    private static String condition(Derived d, ConditionType type) {
        Condition c = Conditions.find(d.status().conditions, type).orElseThrow(() -> new AssertionError("no " + type));
        return c.getStatus() + " " + c.getReason();
    }

    @Test
    void noJobYetIsPendingCreating() throws Exception {
        Derived d = derive(Observed.lora("a", ""), null);
        assertThat(d.phase()).isEqualTo(Phase.Pending);
        assertThat(d.reason()).isEqualTo(StatusReason.Creating);
        assertThat(d.message()).isEqualTo("creating the training Job");
        assertThat(condition(d, ConditionType.Valid)).isEqualTo("True Valid");
        assertThat(condition(d, ConditionType.Running)).isEqualTo("False Pending");
        assertThat(condition(d, ConditionType.Reconciling)).isEqualTo("True Creating");
    }

    @Test
    void aNamesakesJobInTheWayIsPendingBlocked() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Derived d = StatusDeriver.derive(new Observation(ftj, null, "Job a-trainer belongs to another FineTuneJob", null,
                false, null, List.of()), List.of(), T0);
        assertThat(d.phase()).isEqualTo(Phase.Pending);
        assertThat(d.reason()).isEqualTo(StatusReason.Blocked);
        assertThat(d.reason().warns()).isTrue();
        assertThat(d.message()).isEqualTo("Job a-trainer belongs to another FineTuneJob");
    }

    @Test
    void anInvalidSpecFailsWithTheFieldNamed() throws Exception {
        Derived d = StatusDeriver.derive(Observation.of(Observed.lora("a", ""), null, List.of()),
                List.of(new Violation("spec.method.lora.rank", "must be at least 1")), T0);
        assertThat(d.phase()).isEqualTo(Phase.Failed);
        assertThat(d.reason()).isEqualTo(StatusReason.InvalidSpec);
        assertThat(d.message()).contains("spec.method.lora.rank").contains("must be at least 1");
        assertThat(condition(d, ConditionType.Valid)).isEqualTo("False InvalidSpec");
        assertThat(condition(d, ConditionType.Failed)).isEqualTo("True InvalidSpec");
        assertThat(condition(d, ConditionType.Stalled)).isEqualTo("True InvalidSpec");
        assertThat(d.status().completionTime).isEqualTo(T0.toString());
    }

    @Test
    void aJobWithoutAStartedPodIsPendingWaiting() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job, Observed.pending(job, "a-trainer-0"));
        assertThat(d.phase()).isEqualTo(Phase.Pending);
        assertThat(d.reason()).isEqualTo(StatusReason.Pending);
        assertThat(d.message()).isEqualTo("waiting for the training pod to start");
        assertThat(condition(d, ConditionType.Suspended)).isEqualTo("False Resumed");
    }

    @Test
    void aPodNoNodeCanTakeIsPendingUnschedulableWithTheSchedulersMessage() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job, Observed.unschedulable(job, "a-trainer-0", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."));
        assertThat(d.phase()).isEqualTo(Phase.Pending);
        assertThat(d.reason()).isEqualTo(StatusReason.Unschedulable);
        assertThat(d.message()).isEqualTo("pod a-trainer-0 cannot be scheduled: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.");
        assertThat(condition(d, ConditionType.Scheduled)).isEqualTo("False Unschedulable");
        assertThat(StatusDeriver.recordedReason(d.status())).isEqualTo(StatusReason.Unschedulable);
    }

    @Test
    void aRunningPodIsRunningOnItsNode() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job, Observed.running(job, "a-trainer-0"));
        assertThat(d.phase()).isEqualTo(Phase.Running);
        assertThat(d.reason()).isEqualTo(StatusReason.Running);
        assertThat(d.message()).isEqualTo("training in pod a-trainer-0");
        assertThat(condition(d, ConditionType.Scheduled)).isEqualTo("True Scheduled");
        assertThat(d.status().startTime).isEqualTo("2026-01-01T00:00:05Z");
        assertThat(d.status().attempts).isEqualTo(1);
    }

    @Test
    void aRunningPodBeingDeletedIsPreemptedWhileItCheckpoints() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        Pod pod = Observed.running(job, "a-trainer-0");
        pod.getMetadata().setDeletionTimestamp("2026-01-01T00:09:00Z");
        Derived d = derive(ftj, job, pod);
        assertThat(d.phase()).isEqualTo(Phase.Running);
        assertThat(d.reason()).isEqualTo(StatusReason.Preempted);
        assertThat(d.message()).contains("a-trainer-0 is being deleted").contains("checkpoints its current step");
        assertThat(StatusDeriver.recordedReason(d.status())).isEqualTo(StatusReason.Preempted);
    }

    @Test
    void aPodThatExitedBeforeTheJobRecordsItIsFinishing() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Succeeded", 0, "Completed", Observed.SUCCEEDED));
        assertThat(d.phase()).isEqualTo(Phase.Running);
        assertThat(d.reason()).isEqualTo(StatusReason.Finishing);
        assertThat(d.message()).startsWith("pod a-trainer-0 exited (Succeeded); waiting for the Job controller");
        assertThat(d.status().artifact).as("the artifact is recorded once the Job completes").isNull();
    }

    @Test
    void aFailedAttemptWithItsRetryPodStartingIsRetrying() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Failed", 137, "OOMKilled", null),
                Observed.pending(job, "a-trainer-1"));
        assertThat(d.phase()).isEqualTo(Phase.Running);
        assertThat(d.reason()).isEqualTo(StatusReason.Retrying);
        assertThat(d.message()).isEqualTo("pod a-trainer-0 failed (OOMKilled, exit code 137); retry pod a-trainer-1 is starting");
    }

    @Test
    void aTrainerStoppedBySigtermIsPreemptedAndResumesAtTheNextStep() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Failed", 75, "Error", Observed.PREEMPTED),
                Observed.pending(job, "a-trainer-1"));
        assertThat(d.phase()).isEqualTo(Phase.Running);
        assertThat(d.reason()).isEqualTo(StatusReason.Preempted);
        assertThat(d.message()).isEqualTo("pod a-trainer-0 was stopped by SIGTERM after step 7 (checkpoint saved); retry pod"
                + " a-trainer-1 resumes at step 8; not counted against spec.backoffLimit");
    }

    @Test
    void aSuspendedJobIsSuspendedAtItsStepAlsoWhenOnlyParallelismSaysSo() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "suspend: true\n");
        ftj.setStatus(new FineTuneJobStatus());
        ftj.getStatus().progress = new io.finetune.api.v1alpha1.Progress();
        ftj.getStatus().progress.summary = "7/20";
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job);
        assertThat(d.phase()).isEqualTo(Phase.Suspended);
        assertThat(d.reason()).isEqualTo(StatusReason.Suspended);
        assertThat(d.message()).isEqualTo("suspended (spec.suspend) at step 7/20; set spec.suspend to false to resume from its checkpoint");
        assertThat(condition(d, ConditionType.Suspended)).isEqualTo("True Suspended");
        assertThat(condition(d, ConditionType.Reconciling)).isEqualTo("False Suspended");

        job.getSpec().setSuspend(null);   // what a 1.20 API server stores: parallelism 0 only
        assertThat(derive(ftj, job).phase()).isEqualTo(Phase.Suspended);
    }

    @Test
    void aCompletedJobIsSucceededWithTheArtifact() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.complete(Observed.job(ftj));
        Derived d = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Succeeded", 0, "Completed", Observed.SUCCEEDED));
        assertThat(d.phase()).isEqualTo(Phase.Succeeded);
        assertThat(d.reason()).isEqualTo(StatusReason.Succeeded);
        assertThat(d.message()).isEqualTo("artifact written to s3://adapters/run-1");
        assertThat(d.status().artifact.digest).isEqualTo(Observed.DIGEST);
        assertThat(d.status().completionTime).isEqualTo("2026-01-01T01:00:00Z");
        assertThat(condition(d, ConditionType.Ready)).isEqualTo("True Succeeded");
    }

    @Test
    void aCompletedJobRecordsThePrecisionAndDeviceThatRanWithNamesBounded() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.complete(Observed.job(ftj));
        String longName = "X".repeat(300);
        String report = Observed.SUCCEEDED.replace("\"steps\":20}", "\"steps\":20,\"execution\":{\"precision\":\"bf16\","
                + "\"device\":\"cpu()\",\"cpuModel\":\"" + longName + "\"}}");
        Derived d = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Succeeded", 0, "Completed", report));
        assertThat(d.phase()).isEqualTo(Phase.Succeeded);
        assertThat(d.status().execution.precision).isEqualTo(io.finetune.api.v1alpha1.Precision.BF16);
        assertThat(d.status().execution.device).isEqualTo("cpu()");
        assertThat(d.status().execution.cpuModel).hasSize(io.finetune.api.v1alpha1.Execution.MAX_NAME);
        assertThat(StatusWriter.OWNED).contains("execution");

        Derived without = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Succeeded", 0, "Completed", Observed.SUCCEEDED));
        assertThat(without.status().execution).as("an older trainer's report has none").isNull();
    }

    @Test
    void aCompletedJobWhoseReportIsUnusableFailsWithTrainerError() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.complete(Observed.job(ftj));
        Derived d = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Succeeded", 0, "Completed",
                Observed.SUCCEEDED.replace(Observed.DIGEST, "sha256:nothex")));
        assertThat(d.phase()).isEqualTo(Phase.Failed);
        assertThat(d.reason()).isEqualTo(StatusReason.TrainerError);
        assertThat(d.status().artifact).isNull();
    }

    @Test
    void aFailedJobSaysWhy() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job oom = Observed.failed(Observed.job(ftj), "BackoffLimitExceeded", 4);
        Derived d = derive(ftj, oom, Observed.terminated(oom, "a-trainer-3", "Failed", 137, "OOMKilled", null));
        assertThat(d.reason()).isEqualTo(StatusReason.OOMKilled);
        assertThat(d.message()).startsWith("the trainer exceeded its memory limit (exit code 137)");

        Job plain = Observed.failed(Observed.job(ftj), "BackoffLimitExceeded", 4);
        d = derive(ftj, plain, Observed.terminated(plain, "a-trainer-3", "Failed", 1, "Error", null));
        assertThat(d.phase()).isEqualTo(Phase.Failed);
        assertThat(d.reason()).isEqualTo(StatusReason.BackoffLimitExceeded);
        assertThat(d.message()).isEqualTo("the training pod failed 4 time(s), more than spec.backoffLimit=3; last exit code 1"
                + " (Job has reached the specified backoff limit)");
        assertThat(condition(d, ConditionType.Failed)).isEqualTo("True BackoffLimitExceeded");
        assertThat(d.status().completionTime).isEqualTo("2026-01-01T02:00:00Z");

        Job late = Observed.failed(Observed.job(ftj), "DeadlineExceeded", 0);
        assertThat(derive(ftj, late).reason()).isEqualTo(StatusReason.DeadlineExceeded);
    }

    @Test
    void anImageThatCannotBePulledFailsOnceTheKubeletBacksOff() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        assertThat(derive(ftj, job, Observed.waiting(job, "a-trainer-0", "ErrImagePull")).phase())
                .as("ErrImagePull alone may be a registry hiccup").isEqualTo(Phase.Pending);
        Derived d = derive(ftj, job, Observed.waiting(job, "a-trainer-0", "ImagePullBackOff"));
        assertThat(d.phase()).isEqualTo(Phase.Failed);
        assertThat(d.reason()).isEqualTo(StatusReason.ImagePullBackOff);
        assertThat(d.message()).startsWith("image finetune/finetune-trainer:0.1.0 cannot be pulled: ImagePullBackOff");
    }

    @Test
    void thePreflightHoldsThePendingPhaseThenFailsWithItsReason() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Observation none = new Observation(ftj, null, null, null, true, null, List.of());
        Derived running = StatusDeriver.derive(none.withPreflight(PreflightVerdict.started("a-check")), List.of(), T0);
        assertThat(running.phase()).isEqualTo(Phase.Pending);
        assertThat(running.reason()).isEqualTo(StatusReason.Preflight);

        Derived failed = StatusDeriver.derive(none.withPreflight(new PreflightVerdict(false,
                PreflightResult.Reason.TargetModulesNotFound, "no module matches k_proj", null)), List.of(), T0);
        assertThat(failed.phase()).isEqualTo(Phase.Failed);
        assertThat(failed.reason()).isEqualTo(StatusReason.TargetModulesNotFound);
        assertThat(condition(failed, ConditionType.PreflightPassed)).isEqualTo("False TargetModulesNotFound");
        assertThat(StatusDeriver.recordedReason(failed.status())).isEqualTo(StatusReason.TargetModulesNotFound);
    }

    @Test
    void everyPreflightFailureAndEveryPhaseHasAReason() {
        for (PreflightResult.Reason r : PreflightResult.Reason.values()) {
            assertThat(StatusReason.parse(r.name())).as("preflight reason " + r).get().satisfies(s -> assertThat(s.isFailure()).isTrue());
        }
        for (Phase p : Phase.values()) {
            assertThat(StatusReason.of(p).name()).isEqualTo(p.name());
        }
    }

    @Test
    void aRecordedReasonThisOperatorDoesNotWriteReadsAsThePhase() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "");
        Job job = Observed.job(ftj);
        FineTuneJobStatus s = derive(ftj, job, Observed.running(job, "a-trainer-0")).status();
        Conditions.find(s.conditions, ConditionType.Running).orElseThrow().setReason("SomethingOld");
        assertThat(StatusDeriver.recordedReason(s)).isEqualTo(StatusReason.Running);
    }

    @Test
    void aJobKueueHoldsIsQueuedNamingTheQueueThenAdmittedOnceUnsuspended() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "queueName: gpus\n");
        Job job = Observed.job(ftj);
        assertThat(job.getSpec().getSuspend()).as("created held").isTrue();
        Derived d = derive(ftj, job);
        assertThat(d.phase()).isEqualTo(Phase.Queued);
        assertThat(d.reason()).isEqualTo(StatusReason.Queued);
        assertThat(d.message()).isEqualTo("waiting for Kueue to admit the Job from LocalQueue gpus (the Job stays suspended until then)");
        assertThat(condition(d, ConditionType.Admitted)).isEqualTo("False Queued");
        assertThat(condition(d, ConditionType.Reconciling)).isEqualTo("True Queued");

        job.getSpec().setSuspend(false);
        job.getSpec().setParallelism(1);
        Derived admitted = derive(ftj, job, Observed.running(job, "a-trainer-0"));
        assertThat(admitted.phase()).isEqualTo(Phase.Running);
        assertThat(condition(admitted, ConditionType.Admitted)).isEqualTo("True Admitted");
    }

    @Test
    void anEvictedJobIsQueuedAgainAfterItsCheckpoint() throws Exception {
        FineTuneJob ftj = Observed.lora("a", "queueName: gpus\n");
        Job job = Observed.job(ftj);
        Derived d = derive(ftj, job, Observed.terminated(job, "a-trainer-0", "Failed", 75, "Error", Observed.PREEMPTED));
        assertThat(d.phase()).isEqualTo(Phase.Queued);
        assertThat(d.message()).isEqualTo("evicted by Kueue after step 7 (checkpoint saved); the Job waits in LocalQueue gpus"
                + " to be admitted again and resumes from its checkpoint");
        assertThat(condition(d, ConditionType.Admitted)).isEqualTo("False Evicted");

        // The Job controller already removed the pod: the last progress says where it stopped.
        ftj.setStatus(d.status());
        ftj.getStatus().progress = new io.finetune.api.v1alpha1.Progress();
        ftj.getStatus().progress.summary = "7/20";
        assertThat(derive(ftj, job).message()).isEqualTo("evicted by Kueue at step 7/20; the Job waits in LocalQueue gpus"
                + " to be admitted again and resumes from its checkpoint");

        FineTuneJob suspended = Observed.lora("b", "queueName: gpus\nsuspend: true\n");
        assertThat(derive(suspended, Observed.job(suspended)).phase()).as("the user's suspend wins").isEqualTo(Phase.Suspended);
    }
}
