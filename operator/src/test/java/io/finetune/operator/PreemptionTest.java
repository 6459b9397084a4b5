package io.finetune.operator;

import io.fabric8.kubernetes.api.model.Condition;
import io.finetune.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import io.finetune.testkit.GitOpsHealth;
import org.junit.jupiter.api.Test;
import java.time.Duration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A trainer stopped by SIGTERM (exit 75, reason Preempted) is a resumable interruption, not a failed attempt; GPU time is
 * billed per attempt; suspend stops the pod (parallelism 0 as well as spec.suspend, for 1.20); and the conditions and the
 * shipped Argo CD Lua check read each state as GitOps tools should.
 */
class PreemptionTest extends ControllerTestBase {
    static final String PREEMPTED = "{\"outcome\":\"Failed\",\"reason\":\"Preempted\",\"message\":\"stopped by SIGTERM after step 7/20;"
            + " checkpoint step-7 saved, a new run resumes at step 8\",\"steps\":7}";
    static final String SUCCEEDED = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\""
            + ReconcileLifecycleTest.DIGEST + "\",\"sizeBytes\":1,\"format\":\"peft-lora\"},\"steps\":20}";

    private void progress(FineTuneJob ftj, int step) {
        client.resources(FineTuneJob.class).inNamespace(TestJobs.NAMESPACE).withName(ftj.getMetadata().getName()).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"progress\":{\"step\":" + step
                        + ",\"totalSteps\":20,\"summary\":\"" + step + "/20\"}}}");
    }

    @Test
    void podGetsTheCheckpointGracePeriodDefault120() {
        FineTuneJob dflt = create(TestJobs.lora("grace-default"));
        reconcile(dflt);
        assertThat(kubelet.job(dflt).getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(120L);

        FineTuneJob set = TestJobs.lora("grace-set");
        set.getSpec().training.checkpointGracePeriodSeconds = 600;
        set = create(set);
        reconcile(set);
        assertThat(kubelet.job(set).getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(600L);
    }

    @Test
    void preemptedAttemptResumesIsNotCountedAgainstBackoffLimitAndGpuTimeIsBilledPerAttempt() throws Exception {
        FineTuneJob ftj = create(TestJobs.lora("preempt"));
        FineTuneJobStatus pending = reconcile(ftj);
        assertThat(GitOpsHealth.argo(get(ftj))).isEqualTo(new GitOpsHealth.Argo("Progressing", "waiting for the training pod to start"));
        assertThat(GitOpsHealth.kstatus(get(ftj))).isEqualTo("InProgress");
        assertThat(Conditions.find(pending.conditions, ConditionType.Ready)).get()
                .satisfies(c -> assertThat(c.getStatus() + " " + c.getReason()).isEqualTo("False Pending"))
                .satisfies(c -> assertThat(c.getObservedGeneration()).isEqualTo(get(ftj).getMetadata().getGeneration()));

        // What a 1.20 API server stores: it has no spec.podFailurePolicy and drops it.
        io.fabric8.kubernetes.api.model.batch.v1.Job stored = kubelet.job(ftj);
        assertThat(stored.getSpec().getPodFailurePolicy().getRules()).hasSize(2);
        stored.getSpec().setPodFailurePolicy(null);
        client.batch().v1().jobs().resource(stored).update();
        Pod first = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);
        progress(ftj, 7);
        FineTuneJobStatus running = reconcile(ftj);
        assertThat(running.phase).isEqualTo(Phase.Running);
        assertThat(GitOpsHealth.argo(get(ftj)).status()).isEqualTo("Progressing");
        assertThat(GitOpsHealth.argo(get(ftj)).message()).startsWith("step 7/20: ");

        // SIGTERM (node drain, spot reclaim): the trainer checkpoints step 7 and exits 75 after 5 minutes of running.
        kubelet.terminated(first, "Failed", 75, "Error", PREEMPTED, "2026-01-01T00:05:05Z");
        kubelet.failedPods(ftj, 1);
        Pod retry = kubelet.startPod(ftj);
        FineTuneJobStatus preempted = reconcile(ftj);
        assertThat(preempted.phase).isEqualTo(Phase.Running);
        Condition c = Conditions.find(preempted.conditions, ConditionType.Running).orElseThrow();
        assertThat(c.getReason()).isEqualTo("Preempted");
        assertThat(c.getMessage()).isEqualTo("pod " + first.getMetadata().getName() + " was stopped by SIGTERM after step 7"
                + " (checkpoint saved); retry pod " + retry.getMetadata().getName() + " resumes at step 8;"
                + " not counted against spec.backoffLimit");
        assertThat(kubelet.job(ftj).getSpec().getBackoffLimit()).as("spec.backoffLimit 3 + 1 preemption").isEqualTo(4);
        assertThat(preempted.usage.preemptions).isEqualTo(1);
        assertThat(preempted.usage.attempts).isEqualTo(1);
        assertThat(preempted.usage.gpuSeconds).isEqualTo(300.0);
        assertThat(events(ftj)).contains("Normal Preempted");

        // The first pod is deleted (eviction): its billed time stays on the Job's ledger.
        client.pods().resource(first).delete();
        retry = kubelet.running(retry, "2026-01-01T00:06:00Z");
        clock.advance(Duration.ofMinutes(1));
        reconcile(ftj);
        kubelet.terminated(retry, "Succeeded", 0, "Completed", SUCCEEDED, "2026-01-01T00:16:00Z");
        kubelet.complete(ftj);
        FineTuneJobStatus done = reconcile(ftj);
        assertThat(done.phase).isEqualTo(Phase.Succeeded);
        assertThat(done.usage.gpuSeconds).as("300 s + 600 s on 1 GPU").isEqualTo(900.0);
        assertThat(done.usage.attempts).isEqualTo(2);
        assertThat(done.attempts).isEqualTo(2);
        assertThat(done.usage.preemptions).isEqualTo(1);
        assertThat(registry.get("finetune.gpu.seconds").tag("namespace", TestJobs.NAMESPACE).counter().count()).isEqualTo(900.0);
        assertThat(Conditions.find(done.conditions, ConditionType.Ready)).get()
                .satisfies(r -> assertThat(r.getStatus() + " " + r.getReason()).isEqualTo("True Succeeded"));
        assertThat(GitOpsHealth.kstatus(get(ftj))).isEqualTo("Current");
        assertThat(GitOpsHealth.argo(get(ftj))).isEqualTo(new GitOpsHealth.Argo("Healthy", "artifact written to s3://adapters/run-1"));

        // A further pass (resync, operator restart) bills nothing twice.
        newController().reconcile(get(ftj));
        assertThat(registry.get("finetune.gpu.seconds").tag("namespace", TestJobs.NAMESPACE).counter().count()).isEqualTo(900.0);
    }

    @Test
    void whereTheServerKeepsPodFailurePolicyExit75IsIgnoredByItAndBackoffLimitStays() {
        FineTuneJob ftj = create(TestJobs.lora("newer"));
        reconcile(ftj);
        var rules = kubelet.job(ftj).getSpec().getPodFailurePolicy().getRules();
        assertThat(rules.get(0).getAction()).isEqualTo("Ignore");
        assertThat(rules.get(0).getOnExitCodes().getContainerName()).isEqualTo("trainer");
        assertThat(rules.get(0).getOnExitCodes().getValues()).containsExactly(75);
        assertThat(rules.get(1).getOnPodConditions()).singleElement().satisfies(c -> assertThat(c.getType()).isEqualTo("DisruptionTarget"));

        Pod first = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);
        kubelet.terminated(first, "Failed", 75, "Error", PREEMPTED, "2026-01-01T00:05:05Z");
        kubelet.startPod(ftj);
        FineTuneJobStatus s = reconcile(ftj);
        assertThat(s.usage.preemptions).isEqualTo(1);
        assertThat(kubelet.job(ftj).getSpec().getBackoffLimit()).isEqualTo(3);
    }

    @Test
    void aPodDeletedWhileRunningIsStoppingThenCountsAsAPreemptionEvenIfItsEndWasNeverSeen() {
        // Pure derivation: the CRUD mock server cannot hold a pod in graceful deletion (deletionTimestamp set, still there).
        FineTuneJob ftj = TestJobs.lora("evicted");
        ftj.getMetadata().setGeneration(1L);
        io.fabric8.kubernetes.api.model.batch.v1.Job job = io.finetune.operator.desired.TrainingJob.desired(ftj, OperatorSettings.defaults());
        Pod pod = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("evicted-trainer-x1")
                .withDeletionTimestamp("2026-01-01T00:01:00Z").endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec())
                .withNewStatus().withPhase("Running").addNewContainerStatus().withName("trainer").withNewState()
                .withNewRunning("2026-01-01T00:00:05Z").endState().endContainerStatus().endStatus().build();
        java.time.Instant t0 = java.time.Instant.parse("2026-01-01T00:01:00Z");
        var ledger = io.finetune.operator.status.AttemptLedger.update(java.util.Map.of(), java.util.List.of(pod), t0);
        job.getMetadata().setAnnotations(java.util.Map.of(io.finetune.operator.status.AttemptLedger.ANNOTATION,
                io.finetune.operator.status.AttemptLedger.write(ledger)));
        var stopping = io.finetune.operator.status.StatusDeriver.derive(io.finetune.operator.observe.Observation.of(
                ftj, job, java.util.List.of(pod)), java.util.List.of(), t0);
        assertThat(stopping.phase()).isEqualTo(Phase.Running);
        assertThat(stopping.reason().name()).isEqualTo("Preempted");
        assertThat(stopping.message()).contains("evicted-trainer-x1 is being deleted").contains("checkpoints its current step");

        // The kubelet removed it before its final state was observed (common on a real node): still a preemption.
        var after = io.finetune.operator.status.AttemptLedger.update(ledger, java.util.List.of(), t0.plusSeconds(30));
        var usage = io.finetune.operator.status.AttemptLedger.usage(after);
        assertThat(usage.preemptions).isEqualTo(1);
        assertThat(usage.attempts).isEqualTo(1);
        assertThat(usage.gpuSeconds).as("00:00:05 to when it was seen gone, 1 GPU").isEqualTo(85.0);
    }

    @Test
    void failedRunIsDegradedForArgoAndFailedForKstatus() throws Exception {
        FineTuneJob ftj = create(TestJobs.lora("broken"));
        reconcile(ftj);
        Pod pod = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);
        kubelet.terminated(pod, "Failed", 1, "Error", "{\"outcome\":\"Failed\",\"reason\":\"InvalidDataset\","
                + "\"message\":\"/scratch/data/train.jsonl:3: expected a JSON object\"}", "2026-01-01T00:00:35Z");
        kubelet.fail(ftj, "BackoffLimitExceeded", 4);
        FineTuneJobStatus failed = reconcile(ftj);

        assertThat(failed.phase).isEqualTo(Phase.Failed);
        assertThat(Conditions.find(failed.conditions, ConditionType.Ready)).get()
                .satisfies(r -> assertThat(r.getStatus() + " " + r.getReason()).isEqualTo("False TrainerError"));
        assertThat(Conditions.isTrue(failed.conditions, ConditionType.Stalled)).isTrue();
        assertThat(GitOpsHealth.kstatus(get(ftj))).isEqualTo("Failed");
        assertThat(GitOpsHealth.argo(get(ftj))).isEqualTo(new GitOpsHealth.Argo("Degraded",
                "InvalidDataset: /scratch/data/train.jsonl:3: expected a JSON object"));
        assertThat(failed.usage.gpuSeconds).isEqualTo(30.0);
    }

    @Test
    void suspendStopsThePodThroughParallelismZeroAndShowsTheStepReached() throws Exception {
        FineTuneJob ftj = create(TestJobs.lora("pause"));
        reconcile(ftj);
        kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);
        progress(ftj, 12);
        FineTuneJob current = get(ftj);
        current.getSpec().suspend = true;
        client.resource(current).update();

        FineTuneJobStatus suspended = reconcile(ftj);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isTrue();
        assertThat(kubelet.job(ftj).getSpec().getParallelism()).as("what a 1.20 Job controller obeys").isZero();
        assertThat(suspended.phase).isEqualTo(Phase.Suspended);
        assertThat(suspended.message).isEqualTo("suspended (spec.suspend) at step 12/20; set spec.suspend to false to resume"
                + " from its checkpoint");
        assertThat(GitOpsHealth.argo(get(ftj))).isEqualTo(new GitOpsHealth.Argo("Suspended", suspended.message));
        assertThat(GitOpsHealth.kstatus(get(ftj))).isEqualTo("Current");

        current = get(ftj);
        current.getSpec().suspend = false;
        client.resource(current).update();
        reconcile(ftj);
        assertThat(kubelet.job(ftj).getSpec().getParallelism()).isEqualTo(1);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isFalse();
    }

    @Test
    void argoShowsProgressingUntilTheOperatorObservedTheLatestGeneration() throws Exception {
        FineTuneJob ftj = create(TestJobs.lora("stale"));
        reconcile(ftj);
        kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);
        FineTuneJob current = get(ftj);
        current.getSpec().suspend = true;
        client.resource(current).update();   // generation 2, not yet reconciled
        FineTuneJob stale = get(ftj);
        assertThat(stale.getMetadata().getGeneration()).isGreaterThan(stale.getStatus().observedGeneration);
        assertThat(GitOpsHealth.argo(stale)).isEqualTo(new GitOpsHealth.Argo("Progressing",
                "the operator has not yet observed generation " + stale.getMetadata().getGeneration()));
        assertThat(GitOpsHealth.kstatus(stale)).isEqualTo("InProgress");
    }
}
