package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import org.junit.jupiter.api.Test;

/** Each way a run fails ends in phase Failed with its precise reason, a useful message and a Warning event. */
class FailureReasonsTest extends ControllerTestBase {

    private FineTuneJobStatus failWith(FineTuneJob ftj, String podReason, int exitCode, String message, String jobReason) {
        reconcile(ftj);
        Pod pod = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);
        kubelet.terminated(pod, "Failed", exitCode, podReason, message, "2026-01-01T00:10:00Z");
        kubelet.fail(ftj, jobReason, 4);
        return reconcile(ftj);
    }

    private static Condition failed(FineTuneJobStatus s) {
        assertThat(s.phase).isEqualTo(Phase.Failed);
        return Conditions.find(s.conditions, ConditionType.Failed).orElseThrow();
    }

    @Test
    void trainerReportedFailureCarriesTheTrainersMessage() {
        FineTuneJob ftj = create(TestJobs.lora("baddata"));
        String msg = "{\"outcome\":\"Failed\",\"reason\":\"InvalidDataset\",\"message\":\"/scratch/data/train.jsonl:3: expected a JSON object\"}";
        FineTuneJobStatus s = failWith(ftj, "Error", 1, msg, "BackoffLimitExceeded");

        Condition c = failed(s);
        assertThat(c.getReason()).isEqualTo("TrainerError");
        assertThat(c.getMessage()).isEqualTo("InvalidDataset: /scratch/data/train.jsonl:3: expected a JSON object");
        assertThat(s.message).contains("train.jsonl:3");
        assertThat(s.completionTime).isEqualTo("2026-01-01T02:00:00Z");
        assertThat(events(ftj)).contains("Warning TrainerError");
    }

    @Test
    void crashWithoutResultUsesTheLogTail() {
        FineTuneJob ftj = create(TestJobs.lora("crash"));
        FineTuneJobStatus s = failWith(ftj, "Error", 1, "Starting trainer\nException in thread \"main\" java.lang.IllegalStateException: boom",
                "BackoffLimitExceeded");

        Condition c = failed(s);
        assertThat(c.getReason()).isEqualTo("TrainerError");
        assertThat(c.getMessage()).contains("IllegalStateException: boom").doesNotContain("Starting trainer");
    }

    @Test
    void podKilledWithoutAnyMessageIsBackoffLimitExceeded() {
        FineTuneJob ftj = create(TestJobs.lora("killed"));
        FineTuneJobStatus s = failWith(ftj, "Error", 137, null, "BackoffLimitExceeded");

        Condition c = failed(s);
        assertThat(c.getReason()).isEqualTo("BackoffLimitExceeded");
        assertThat(c.getMessage()).contains("4 time(s)").contains("backoffLimit=3").contains("exit code 137");
    }

    @Test
    void oomKilled() {
        FineTuneJob ftj = create(TestJobs.lora("oom"));
        FineTuneJobStatus s = failWith(ftj, "OOMKilled", 137, null, "BackoffLimitExceeded");

        Condition c = failed(s);
        assertThat(c.getReason()).isEqualTo("OOMKilled");
        assertThat(c.getMessage()).contains("spec.resources.memory");
        assertThat(events(ftj)).contains("Warning OOMKilled");
    }

    @Test
    void deadlineExceeded() {
        FineTuneJob job = TestJobs.lora("slow");
        job.getSpec().activeDeadlineSeconds = 600L;
        FineTuneJob ftj = create(job);
        FineTuneJobStatus s = failWith(ftj, "Error", 143, null, "DeadlineExceeded");

        Condition c = failed(s);
        assertThat(c.getReason()).isEqualTo("DeadlineExceeded");
        assertThat(c.getMessage()).contains("activeDeadlineSeconds=600");
    }

    @Test
    void imagePullBackOffFailsAndSuspendsTheJobToFreeTheGpu() {
        FineTuneJob ftj = create(TestJobs.lora("noimage"));
        reconcile(ftj);
        Pod pod = kubelet.startPod(ftj);
        kubelet.waiting(pod, "ErrImagePull", "rpc error: not found");
        assertThat(reconcile(ftj).phase).as("a first pull error may be transient").isEqualTo(Phase.Pending);

        kubelet.waiting(pod, "ImagePullBackOff", "Back-off pulling image \"finetune/finetune-trainer:0.1.0\"");
        FineTuneJobStatus s = reconcile(ftj);

        Condition c = failed(s);
        assertThat(c.getReason()).isEqualTo("ImagePullBackOff");
        assertThat(c.getMessage()).contains("finetune/finetune-trainer:0.1.0");
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isTrue();
    }

    @Test
    void succeededJobWithAForgedDigestIsNotRecorded() {
        FineTuneJob ftj = create(TestJobs.lora("forged"));
        reconcile(ftj);
        Pod pod = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        kubelet.terminated(pod, "Succeeded", 0, "Completed", "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\","
                + "\"digest\":\"md5:1234\",\"sizeBytes\":1}}", "2026-01-01T00:10:00Z");
        kubelet.complete(ftj);

        FineTuneJobStatus s = reconcile(ftj);

        Condition c = failed(s);
        assertThat(c.getReason()).isEqualTo("TrainerError");
        assertThat(c.getMessage()).contains("md5:1234");
        assertThat(s.artifact).isNull();
    }

    @Test
    void artifactOutsideTheDestinationIsNotRecorded() {
        FineTuneJob ftj = create(TestJobs.lora("elsewhere"));
        reconcile(ftj);
        Pod pod = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        kubelet.terminated(pod, "Succeeded", 0, "Completed", "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-10\","
                + "\"digest\":\"sha256:" + "0".repeat(64) + "\",\"sizeBytes\":1}}", "2026-01-01T00:10:00Z");
        kubelet.complete(ftj);

        Condition c = failed(reconcile(ftj));
        assertThat(c.getMessage()).contains("outside spec.output.destination");
    }

    @Test
    void retriedPodCountsAsAnotherAttempt() {
        FineTuneJob ftj = create(TestJobs.lora("retry"));
        reconcile(ftj);
        Pod first = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        assertThat(reconcile(ftj).attempts).isEqualTo(1);
        kubelet.terminated(first, "Failed", 137, "Error", null, "2026-01-01T00:05:00Z");
        kubelet.failedPods(ftj, 1);
        kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:06:00Z");

        FineTuneJobStatus s = reconcile(ftj);

        assertThat(s.phase).isEqualTo(Phase.Running);
        assertThat(s.attempts).isEqualTo(2);
        assertThat(s.startTime).as("the first start is kept").isEqualTo("2026-01-01T00:00:05Z");
    }

    @Test
    void aRetryPodWaitingToStartKeepsTheRunRunningInsteadOfSteppingBackToPending() {
        FineTuneJob ftj = create(TestJobs.lora("retrying"));
        reconcile(ftj);
        Pod first = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        assertThat(reconcile(ftj).phase).isEqualTo(Phase.Running);
        kubelet.terminated(first, "Failed", 137, "OOMKilled", null, "2026-01-01T00:05:00Z");
        kubelet.failedPods(ftj, 1);
        Pod retry = kubelet.startPod(ftj);

        FineTuneJobStatus s = reconcile(ftj);

        assertThat(s.phase).isEqualTo(Phase.Running);
        Condition running = Conditions.find(s.conditions, ConditionType.Running).orElseThrow();
        assertThat(running.getReason()).isEqualTo("Retrying");
        assertThat(s.message).contains(first.getMetadata().getName() + " failed (OOMKilled, exit code 137)")
                .contains("retry pod " + retry.getMetadata().getName());
        assertThat(events(ftj)).contains("Normal Retrying");

        kubelet.running(retry, "2026-01-01T00:06:00Z");
        FineTuneJobStatus again = reconcile(ftj);
        assertThat(again.phase).isEqualTo(Phase.Running);
        assertThat(again.attempts).isEqualTo(2);
        assertThat(events(ftj)).as("kubectl describe shows each attempt start").filteredOn("Normal Running"::equals)
                .hasSize(2);
    }

    @Test
    void aRetryNoNodeCanTakeIsReportedUnschedulable() {
        FineTuneJob ftj = create(TestJobs.lora("retry-unschedulable"));
        reconcile(ftj);
        Pod first = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);
        kubelet.terminated(first, "Failed", 137, "OOMKilled", null, "2026-01-01T00:05:00Z");
        kubelet.failedPods(ftj, 1);
        // The user must act (free or add a GPU): that is not a retry in progress.
        kubelet.unschedulable(kubelet.startPod(ftj), "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.");

        FineTuneJobStatus waiting = reconcile(ftj);

        assertThat(waiting.phase).isEqualTo(Phase.Pending);
        assertThat(waiting.message).contains("Insufficient nvidia.com/gpu");
        assertThat(events(ftj)).contains("Warning Unschedulable");
    }

    @Test
    void finishedRunIsHistoryEvenAfterItsJobIsCleanedUp() {
        FineTuneJob ftj = create(TestJobs.lora("ttl"));
        FineTuneJobStatus failedStatus = failWith(ftj, "OOMKilled", 137, null, "BackoffLimitExceeded");
        client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).delete();
        int writes = statusWriter.writes;

        FineTuneJobStatus after = reconcile(ftj);

        assertThat(jobs()).as("no new Job for a finished run").isEmpty();
        assertThat(after.phase).isEqualTo(Phase.Failed);
        assertThat(statusWriter.writes).isEqualTo(writes);
        assertThat(after.conditions).isEqualTo(failedStatus.conditions);
    }
}
