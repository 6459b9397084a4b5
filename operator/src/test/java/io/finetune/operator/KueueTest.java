package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import io.finetune.testkit.GitOpsHealth;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * spec.queueName: Kueue admits the Job, the operator never does. The test plays Kueue as its batch/v1 Job integration
 * does: admission unsuspends the Job and injects a nodeSelector; eviction suspends it again. Each pass is checked for
 * what a user reads (phase, reason, message naming the queue, the Admitted condition, events) and for what the operator
 * wrote to the Job (never suspend=false).
 */
class KueueTest extends ControllerTestBase {
    static final String QUEUE = "team-a-gpus";

    private FineTuneJob queued(String name) {
        FineTuneJob ftj = TestJobs.lora(name);
        ftj.getSpec().queueName = QUEUE;
        return create(ftj);
    }

    /** Kueue admitting the workload: suspend false, the flavor's node selector injected into the (suspended) template. */
    private void admit(FineTuneJob ftj) {
        Job job = kubelet.job(ftj);
        job.getSpec().setSuspend(false);
        job.getSpec().getTemplate().getSpec().setNodeSelector(Map.of("cloud.example.com/gpu-flavor", "a100"));
        client.batch().v1().jobs().resource(job).update();
    }

    /** Kueue evicting it (preemption by a higher-priority workload, quota reclaimed): suspended again. */
    private void evict(FineTuneJob ftj) {
        client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).withName(kubelet.job(ftj).getMetadata().getName())
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":true}}");
    }

    private void setSuspend(FineTuneJob ftj, boolean suspend) {
        FineTuneJob current = get(ftj);
        current.getSpec().suspend = suspend;
        client.resource(current).update();
    }

    private static String condition(FineTuneJobStatus s, ConditionType type) {
        Condition c = Conditions.find(s.conditions, type).orElseThrow(() -> new AssertionError("no " + type));
        return c.getStatus() + " " + c.getReason();
    }

    @Test
    void aQueuedJobIsCreatedSuspendedAndWaitsQueuedNamingItsQueue() throws Exception {
        FineTuneJob ftj = queued("q-wait");
        FineTuneJobStatus s = reconcile(ftj);
        Job job = kubelet.job(ftj);
        assertThat(job.getMetadata().getLabels()).containsEntry("kueue.x-k8s.io/queue-name", QUEUE);
        assertThat(job.getSpec().getSuspend()).as("created suspended: admission is Kueue's").isTrue();
        assertThat(job.getSpec().getParallelism()).as("a server that keeps spec.suspend holds it by that alone; Kueue"
                + " accounts the real size").isEqualTo(1);
        assertThat(s.phase).isEqualTo(Phase.Queued);
        assertThat(s.message).isEqualTo("waiting for Kueue to admit the Job from LocalQueue " + QUEUE
                + " (the Job stays suspended until then)");
        assertThat(condition(s, ConditionType.Admitted)).isEqualTo("False Queued");
        assertThat(condition(s, ConditionType.Running)).isEqualTo("False Queued");
        assertThat(condition(s, ConditionType.Reconciling)).isEqualTo("True Queued");
        assertThat(GitOpsHealth.argo(get(ftj)).status()).isEqualTo("Progressing");
        assertThat(GitOpsHealth.kstatus(get(ftj))).isEqualTo("InProgress");
        assertThat(events(ftj)).containsExactly("Normal JobCreated", "Normal Queued");

        for (int pass = 0; pass < 3; pass++) {   // resyncs, an operator restart: the Job stays where Kueue keeps it
            newController().reconcile(get(ftj));
        }
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).as("the operator never unsuspends a queued Job").isTrue();
        assertThat(get(ftj).getStatus().phase).isEqualTo(Phase.Queued);
        assertThat(events(ftj)).containsExactly("Normal JobCreated", "Normal Queued");
    }

    @Test
    void admissionRunsTheJobWithKueuesNodeSelectorThenAnEvictionCheckpointsAndQueuesItAgain() throws Exception {
        FineTuneJob ftj = queued("q-run");
        reconcile(ftj);
        admit(ftj);
        FineTuneJobStatus admitted = reconcile(ftj);
        assertThat(admitted.phase).isEqualTo(Phase.Pending);
        assertThat(condition(admitted, ConditionType.Admitted)).isEqualTo("True Admitted");
        assertThat(Conditions.find(admitted.conditions, ConditionType.Admitted).get().getMessage())
                .isEqualTo("Kueue admitted the Job from LocalQueue " + QUEUE);
        assertThat(kubelet.job(ftj).getSpec().getTemplate().getSpec().getNodeSelector())
                .as("Kueue's injected node selector is kept").containsEntry("cloud.example.com/gpu-flavor", "a100");

        Pod first = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        assertThat(reconcile(ftj).phase).isEqualTo(Phase.Running);

        // What a 1.20 API server stores: no podFailurePolicy, so the operator keeps exit 75 out of the failure budget.
        Job stored = kubelet.job(ftj);
        stored.getSpec().setPodFailurePolicy(null);
        client.batch().v1().jobs().resource(stored).update();
        evict(ftj);
        FineTuneJobStatus stopping = reconcile(ftj);
        assertThat(stopping.phase).isEqualTo(Phase.Queued);
        assertThat(condition(stopping, ConditionType.Admitted)).isEqualTo("False Evicted");
        assertThat(condition(stopping, ConditionType.Running)).isEqualTo("True Preempted");
        assertThat(stopping.message).startsWith("evicted by Kueue: pod " + first.getMetadata().getName() + " is stopping");
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).as("the eviction stands").isTrue();

        // The Job controller deleted the pod: SIGTERM, the trainer checkpointed step 7 and exited 75.
        kubelet.terminated(first, "Failed", 75, "Error", PreemptionTest.PREEMPTED, "2026-01-01T00:05:05Z");
        kubelet.failedPods(ftj, 1);
        FineTuneJobStatus evicted = reconcile(ftj);
        assertThat(evicted.phase).isEqualTo(Phase.Queued);
        assertThat(evicted.message).isEqualTo("evicted by Kueue after step 7 (checkpoint saved); the Job waits in LocalQueue "
                + QUEUE + " to be admitted again and resumes from its checkpoint");
        assertThat(evicted.usage.preemptions).isEqualTo(1);
        assertThat(kubelet.job(ftj).getSpec().getBackoffLimit()).as("spec.backoffLimit 3 + 1 preemption").isEqualTo(4);
        assertThat(events(ftj)).contains("Normal Admitted", "Normal Evicted");

        admit(ftj);
        Pod second = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:10:00Z");
        FineTuneJobStatus resumed = reconcile(ftj);
        assertThat(resumed.phase).isEqualTo(Phase.Running);
        assertThat(condition(resumed, ConditionType.Admitted)).isEqualTo("True Admitted");
        kubelet.terminated(second, "Succeeded", 0, "Completed", PreemptionTest.SUCCEEDED, "2026-01-01T00:20:00Z");
        kubelet.complete(ftj);
        FineTuneJobStatus done = reconcile(ftj);
        assertThat(done.phase).isEqualTo(Phase.Succeeded);
        assertThat(done.usage.attempts).isEqualTo(2);
        assertThat(events(ftj).stream().filter(e -> e.endsWith(" Admitted")).count()).as("two admissions").isEqualTo(2);
    }

    @Test
    void suspendingAlwaysHoldsTheJobAndResumingOnlyHandsItBackToKueue() throws Exception {
        FineTuneJob ftj = queued("q-pause");
        reconcile(ftj);
        admit(ftj);
        kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        reconcile(ftj);

        setSuspend(ftj, true);
        FineTuneJobStatus paused = reconcile(ftj);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isTrue();
        assertThat(kubelet.job(ftj).getSpec().getParallelism()).as("the workload's size stays what Kueue accounts").isEqualTo(1);
        assertThat(paused.phase).isEqualTo(Phase.Suspended);

        setSuspend(ftj, false);
        FineTuneJobStatus back = reconcile(ftj);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).as("resuming does not unsuspend: Kueue admits it again").isTrue();
        assertThat(back.phase).isEqualTo(Phase.Queued);
        assertThat(condition(back, ConditionType.Admitted)).isEqualTo("False Evicted");
        assertThat(events(ftj)).doesNotContain("Normal Resumed");

        admit(ftj);
        assertThat(reconcile(ftj).phase).isIn(Phase.Pending, Phase.Running);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isFalse();
    }

    @Test
    void aJobCreatedSuspendedByItsUserWithAQueueIsSuspendedThenQueued() throws Exception {
        FineTuneJob spec = TestJobs.lora("q-held");
        spec.getSpec().queueName = QUEUE;
        spec.getSpec().suspend = true;
        FineTuneJob ftj = create(spec);
        FineTuneJobStatus s = reconcile(ftj);
        assertThat(s.phase).isEqualTo(Phase.Suspended);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isTrue();
        setSuspend(ftj, false);
        s = reconcile(ftj);
        assertThat(s.phase).isEqualTo(Phase.Queued);
        assertThat(condition(s, ConditionType.Admitted)).isEqualTo("False Queued");
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isTrue();
    }

    @Test
    void whereTheServerDropsSpecSuspendParallelismZeroIsTheHoldAndOnlyKueueReleasesIt() throws Exception {
        FineTuneJob ftj = queued("q-120");
        reconcile(ftj);
        // What a 1.20 API server stores of the Job the operator created: no spec.suspend, parallelism 0.
        Job stored = kubelet.job(ftj);
        stored.getSpec().setSuspend(null);
        stored.getSpec().setParallelism(0);
        client.batch().v1().jobs().resource(stored).update();
        FineTuneJobStatus s = reconcile(ftj);
        assertThat(s.phase).isEqualTo(Phase.Queued);
        assertThat(kubelet.job(ftj).getSpec().getParallelism()).as("the operator does not release the hold").isZero();

        stored = kubelet.job(ftj);
        stored.getSpec().setParallelism(1);   // Kueue's admission in this dialect
        client.batch().v1().jobs().resource(stored).update();
        assertThat(reconcile(ftj).phase).isEqualTo(Phase.Pending);

        setSuspend(ftj, true);
        assertThat(reconcile(ftj).phase).isEqualTo(Phase.Suspended);
        assertThat(kubelet.job(ftj).getSpec().getParallelism()).as("suspending always works").isZero();
    }
}
