package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Status steps of a run as the cluster moves: Pending -> (Unschedulable) -> Running -> Succeeded. */
class ReconcileLifecycleTest extends ControllerTestBase {
    static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void firstPassCreatesOwnedResourcesAndReportsPending() {
        FineTuneJob ftj = create(TestJobs.lora("first"));
        FineTuneJobStatus status = reconcile(ftj);

        assertThat(jobs()).hasSize(1);
        Job job = jobs().get(0);
        assertThat(job.getMetadata().getName()).isEqualTo("first-trainer");
        String uid = get(ftj).getMetadata().getUid();
        assertThat(job.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(r -> assertThat(r.getUid()).isEqualTo(uid));
        assertThat(client.configMaps().inNamespace(TestJobs.NAMESPACE).withName("first-config").get()).isNotNull();
        assertThat(client.serviceAccounts().inNamespace(TestJobs.NAMESPACE).withName("first-trainer").get()).isNotNull();
        assertThat(client.rbac().roles().inNamespace(TestJobs.NAMESPACE).withName("first-trainer").get()).isNotNull();
        assertThat(client.rbac().roleBindings().inNamespace(TestJobs.NAMESPACE).withName("first-trainer").get()).isNotNull();

        assertThat(status.phase).isEqualTo(Phase.Pending);
        assertThat(status.observedGeneration).isEqualTo(get(ftj).getMetadata().getGeneration());
        assertThat(Conditions.find(status.conditions, ConditionType.Valid)).get()
                .satisfies(c -> assertThat(c.getStatus()).isEqualTo("True"));
        assertThat(events(ftj)).contains("Normal JobCreated");
    }

    @Test
    void unschedulablePodShowsTheSchedulersMessage() {
        FineTuneJob ftj = create(TestJobs.lora("nogpu"));
        reconcile(ftj);
        Pod pod = kubelet.startPod(ftj);
        kubelet.unschedulable(pod, "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.");

        FineTuneJobStatus status = reconcile(ftj);

        assertThat(status.phase).isEqualTo(Phase.Pending);
        Condition scheduled = Conditions.find(status.conditions, ConditionType.Scheduled).orElseThrow();
        assertThat(scheduled.getStatus()).isEqualTo("False");
        assertThat(scheduled.getReason()).isEqualTo("Unschedulable");
        assertThat(scheduled.getMessage()).contains("Insufficient nvidia.com/gpu");
        assertThat(status.message).contains("Insufficient nvidia.com/gpu");
        assertThat(events(ftj)).contains("Warning Unschedulable");
    }

    @Test
    void runningThenSucceededRecordsArtifactAndKeepsTrainerProgress() {
        FineTuneJob ftj = create(TestJobs.lora("happy"));
        reconcile(ftj);
        Pod pod = kubelet.startPod(ftj);
        pod = kubelet.running(pod, "2026-01-01T00:00:05Z");
        clock.advance(Duration.ofSeconds(10));

        FineTuneJobStatus running = reconcile(ftj);
        assertThat(running.phase).isEqualTo(Phase.Running);
        assertThat(running.startTime).isEqualTo("2026-01-01T00:00:05Z");
        assertThat(running.attempts).isEqualTo(1);
        assertThat(Conditions.isTrue(running.conditions, ConditionType.Running)).as(String.valueOf(running.conditions)).isTrue();

        // The trainer reports progress on its own (merge patch of status.progress).
        client.resources(FineTuneJob.class).inNamespace(TestJobs.NAMESPACE).withName("happy").subresource("status")
                .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"status\":{\"progress\":{\"step\":40,\"totalSteps\":40,\"loss\":1.25,\"summary\":\"40/40\"}}}");
        String result = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\"" + DIGEST
                + "\",\"sizeBytes\":123456,\"format\":\"peft-lora\",\"servableBy\":[\"peft\",\"vllm\"]},"
                + "\"metrics\":{\"trainLoss\":1.25,\"evalLossBefore\":2.5,\"evalLossAfter\":1.5},"
                + "\"memory\":{\"trainableParameters\":4096,\"totalParameters\":1000000},\"steps\":40}";
        kubelet.terminated(pod, "Succeeded", 0, "Completed", result, "2026-01-01T00:59:00Z");
        // The kubelet reports the pod finished before the Job controller marks the Job Complete (seen on a real plane):
        // the phase must not step back to Pending in between.
        FineTuneJobStatus finishing = reconcile(ftj);
        assertThat(finishing.phase).isEqualTo(Phase.Running);
        assertThat(finishing.message).contains("exited").contains("Succeeded");
        kubelet.complete(ftj);
        clock.advance(Duration.ofMinutes(1));

        FineTuneJobStatus done = reconcile(ftj);
        assertThat(done.phase).isEqualTo(Phase.Succeeded);
        assertThat(done.artifact.uri).isEqualTo("s3://adapters/run-1");
        assertThat(done.artifact.digest).isEqualTo(DIGEST);
        assertThat(done.artifact.sizeBytes).isEqualTo(123456L);
        assertThat(done.artifact.servableBy).containsExactly("peft", "vllm");
        assertThat(done.metrics.evalLossAfter).isEqualTo(1.5);
        assertThat(done.memory.trainableParameters).isEqualTo(4096L);
        assertThat(done.completionTime).isEqualTo("2026-01-01T01:00:00Z");
        assertThat(done.startTime).isEqualTo("2026-01-01T00:00:05Z");
        assertThat(done.progress).as("the trainer's progress is never overwritten").isNotNull();
        assertThat(done.progress.step).isEqualTo(40L);
        assertThat(Conditions.isTrue(done.conditions, ConditionType.Succeeded)).isTrue();
        assertThat(events(ftj)).contains("Normal Running", "Normal Succeeded");
    }

    @Test
    void unchangedStatusIsNotWrittenAgainAndKeepsTransitionTimes() {
        FineTuneJob ftj = create(TestJobs.lora("quiet"));
        FineTuneJobStatus first = reconcile(ftj);
        int writes = statusWriter.writes;
        clock.advance(Duration.ofMinutes(5));

        FineTuneJobStatus again = reconcile(ftj);
        reconcile(ftj);

        assertThat(statusWriter.writes).isEqualTo(writes);
        assertThat(again.conditions).isEqualTo(first.conditions);
        assertThat(jobs()).hasSize(1);
    }

    @Test
    void progressPatchedByTheTrainerDuringAReconcileSurvivesTheStatusWrite() {
        FineTuneJob ftj = create(TestJobs.lora("racy"));
        reconcile(ftj);
        kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        // The trainer's patch lands after the operator read the FineTuneJob but before it writes status.
        statusWriter.beforeWrite = () -> client.resources(FineTuneJob.class).inNamespace(TestJobs.NAMESPACE).withName("racy")
                .subresource("status").patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                        io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), "{\"status\":{\"progress\":{\"step\":7}}}");

        FineTuneJobStatus status = reconcile(ftj);

        assertThat(status.phase).isEqualTo(Phase.Running);
        assertThat(status.progress).isNotNull();
        assertThat(status.progress.step).isEqualTo(7L);
    }
}
