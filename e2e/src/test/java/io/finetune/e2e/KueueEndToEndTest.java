package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.ControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * spec.queueName on a real 1.20 control plane with the packaged operator and the real trainer, the test playing Kueue: the
 * Job is created held and no pod runs until the test admits it; an eviction (held again mid-run) stops the trainer with a
 * checkpoint (SIGTERM, exit 75, not a failed attempt) and the job is Queued again; the next admission resumes it at the
 * next step. A 1.20 API server drops spec.suspend, so the hold there is parallelism 0 (docs/preemption.md): Kueue's
 * suspend/unsuspend is played as parallelism 0/1, together with the suspend field a newer server would keep.
 */
class KueueEndToEndTest {
    static final String NS = "ml";
    static final String QUEUE = "team-a-gpus";
    static final int STEPS = PreemptionEndToEndTest.STEPS;
    static final int INTERRUPT_AT = PreemptionEndToEndTest.INTERRUPT_AT;

    @TempDir
    static Path work;
    static OperatorCluster cluster;
    static ControlPlane kube;
    static TrainerKubelet kubelet;

    @BeforeAll
    static void startEverything() throws Exception {
        cluster = OperatorCluster.start(work, NS, plane -> kubelet = new TrainerKubelet(plane, work.resolve("pods")));
        kube = cluster.kube();
        Repo.trainerJar();
        TinyLoraJob.initModelAndData(work);
        // The job spec and run helpers are PreemptionEndToEndTest's (static, reading its fields): point them at this
        // class's cluster. Test classes run one after the other in the fork, each setting these in its @BeforeAll.
        PreemptionEndToEndTest.kube = kube;
        PreemptionEndToEndTest.kubelet = kubelet;
        PreemptionEndToEndTest.work = work;
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void showLogs(TestInfo info) {
        System.out.println("== " + info.getDisplayName() + " trainer output:\n" + (kubelet == null ? "" : kubelet.logs()));
    }

    private static Job job(String name) {
        return kube.client().batch().v1().jobs().inNamespace(NS).withName(name + "-trainer").get();
    }

    /** Kueue's admission (unsuspend), in the field a 1.20 server keeps and the one it drops. */
    private static void admit(String name) {
        kube.client().batch().v1().jobs().inNamespace(NS).withName(name + "-trainer")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":false,\"parallelism\":1}}");
    }

    /** Kueue's eviction (suspend again). */
    private static void evict(String name) {
        kube.client().batch().v1().jobs().inNamespace(NS).withName(name + "-trainer")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":true,\"parallelism\":0}}");
    }

    private static int pods(String name) {
        return kube.client().pods().inNamespace(NS).withLabel("finetune.io/job-name", name).list().getItems().size();
    }

    @Test
    void theJobWaitsForAdmissionRunsAndAnEvictionCheckpointsAndQueuesItAgain() throws Exception {
        String name = "kq";
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, name)) {
            PreemptionEndToEndTest.submit(name, "train.jsonl", "queueName: " + QUEUE + "\n");

            FineTuneJob queued = rec.await(j -> StatusRecorder.inPhase(j, Phase.Queued), Duration.ofSeconds(60), name + " Queued");
            assertThat(queued.getStatus().message).contains("LocalQueue " + QUEUE);
            Job held = job(name);
            assertThat(held.getMetadata().getLabels()).containsEntry("kueue.x-k8s.io/queue-name", QUEUE);
            assertThat(held.getSpec().getSuspend()).as("1.20 drops spec.suspend").isNull();
            assertThat(held.getSpec().getParallelism()).as("the hold a 1.20 Job controller obeys").isZero();
            Thread.sleep(3000);
            assertThat(pods(name)).as("no pod before admission").isZero();
            assertThat(job(name).getSpec().getParallelism()).as("the operator does not release the hold").isZero();

            // Kueue injects its flavor's node selector into the suspended template; 1.20 refuses any template change
            // (mutable scheduling directives of suspended Jobs came in 1.23), so that part of admission cannot be played here.
            Job withSelector = job(name);
            withSelector.getSpec().getTemplate().getSpec().setNodeSelector(java.util.Map.of("kubernetes.io/hostname", "gpu-node-1"));
            assertThatThrownBy(() -> kube.client().batch().v1().jobs().resource(withSelector).update())
                    .isInstanceOf(KubernetesClientException.class).hasMessageContaining("immutable");

            admit(name);
            TrainerKubelet.Run first = PreemptionEndToEndTest.awaitStep(name, INTERRUPT_AT);
            FineTuneJob running = rec.await(j -> StatusRecorder.inPhase(j, Phase.Running), Duration.ofSeconds(60), name + " Running");
            assertThat(StatusRecorder.condition(running.getStatus(), "Admitted").map(c -> c.getStatus() + " " + c.getReason()))
                    .hasValue("True Admitted");

            evict(name);
            FineTuneJob evicted = rec.await(j -> StatusRecorder.inPhase(j, Phase.Queued) && !first.process().isAlive()
                    && !j.getStatus().message.contains("is stopping"), Duration.ofSeconds(120), name + " evicted");
            assertThat(first.process().exitValue()).as("the trainer stopped on SIGTERM").isEqualTo(TrainerResult.PREEMPTED_EXIT_CODE);
            int k = EndToEndTest.stepLines(first.dir().resolve("trainer.log")).size();
            assertThat(Files.readString(first.dir().resolve("trainer.log"))).contains("stopped by SIGTERM after step " + k + "/" + STEPS);
            assertThat(evicted.getStatus().message).as(rec.transcript()).matches("evicted by Kueue (after|at) step \\d+.*; the Job"
                    + " waits in LocalQueue " + QUEUE + " to be admitted again and resumes from its checkpoint");
            assertThat(StatusRecorder.condition(evicted.getStatus(), "Admitted").map(c -> c.getStatus() + " " + c.getReason()))
                    .hasValue("False Evicted");
            Thread.sleep(3000);
            assertThat(PreemptionEndToEndTest.runs(name)).as("no new pod while evicted").hasSize(1);

            admit(name);
            FineTuneJob done = PreemptionEndToEndTest.awaitFinal(rec, name);
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/" + name + ":\n" + rec.transcript());
            assertThat(done.getStatus().phase).as(rec.transcript() + cluster.operator().log()).isEqualTo(Phase.Succeeded);
            List<TrainerKubelet.Run> runs = PreemptionEndToEndTest.runs(name);
            assertThat(runs).hasSize(2);
            String secondLog = Files.readString(runs.get(1).dir().resolve("trainer.log"));
            assertThat(secondLog).as("resumed from the eviction's checkpoint").contains("(step " + k + "/" + STEPS + ")");
            assertThat(EndToEndTest.stepLines(runs.get(1).dir().resolve("trainer.log")).get(0)).startsWith("step " + (k + 1) + "/");
            assertThat(done.getStatus().usage.preemptions).isEqualTo(1);
            assertThat(rec.phases()).as(rec.transcript()).containsSubsequence(Phase.Queued, Phase.Running, Phase.Queued, Phase.Running,
                    Phase.Succeeded);
        }
    }
}
