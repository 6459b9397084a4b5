package io.finetune.operator;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.TrainerContract.Env;
import io.finetune.api.TrainerContract.Gang;
import io.finetune.api.TrainerContract.Paths;
import io.finetune.api.TrainerContract.Ports;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import org.junit.jupiter.api.Test;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import java.util.stream.Collectors;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * spec.resources.nodes: one Job for the whole gang, ranks assigned once every pod of an attempt runs, and a failed pod
 * restarting the whole gang (never one pod alone), on the mock API server with {@link Kubelet} playing the cluster.
 */
class GangTest extends ControllerTestBase {
    static final String DIGEST = "sha256:" + "cd".repeat(32);

    static FineTuneJob gang(String name, int nodes) {
        return TestJobs.parse(name, """
                model:
                  source: pvc://models/tiny-llama
                dataset:
                  source: pvc://data/train.jsonl
                method:
                  type: LoRA
                output:
                  destination: s3://adapters/run-1
                  credentialsSecret: s3-creds
                resources:
                  gpus: 1
                  nodes: %d
                """.formatted(nodes));
    }

    @Test
    void oneJobHoldsTheWholeGangWithTheRankVolumeAndTheRendezvousPort() {
        FineTuneJob ftj = create(gang("shape", 3));
        reconcile(ftj);

        assertThat(jobs()).hasSize(1);
        Job job = jobs().get(0);
        assertThat(job.getSpec().getParallelism()).isEqualTo(3);
        assertThat(job.getSpec().getCompletions()).isEqualTo(3);
        assertThat(job.getSpec().getBackoffLimit()).as("spec.backoffLimit 3 counts gang attempts: 3 x 3 pods").isEqualTo(9);
        Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);
        Map<String, String> env = c.getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        assertThat(env).containsEntry(Env.PET_NNODES, "3").containsEntry(Env.PET_MASTER_PORT, "29500")
                .containsEntry(Env.PODINFO, Paths.PODINFO_ANNOTATIONS).doesNotContainKeys(Env.PET_NODE_RANK, Env.PET_MASTER_ADDR);
        assertThat(c.getPorts()).anyMatch(p -> p.getContainerPort() == Ports.RENDEZVOUS);
        assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals(Paths.PODINFO_DIR) && m.getReadOnly());
        assertThat(job.getSpec().getTemplate().getSpec().getVolumes()).anyMatch(v -> v.getDownwardAPI() != null
                && v.getDownwardAPI().getItems().get(0).getFieldRef().getFieldPath().equals("metadata.annotations"));

        FineTuneJob single = create(TestJobs.lora("single"));
        reconcile(single);
        Job one = kubelet.job(single);
        assertThat(one.getSpec().getParallelism()).isEqualTo(1);
        assertThat(one.getSpec().getBackoffLimit()).isEqualTo(3);
        assertThat(one.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()).noneMatch(e -> e.getName().startsWith("PET_"));
        assertThat(one.getSpec().getTemplate().getSpec().getVolumes()).noneMatch(v -> v.getDownwardAPI() != null);
    }

    @Test
    void ranksWaitForEveryPodThenGoByNameWithRankZerosAddress() {
        FineTuneJob ftj = create(gang("ranks", 2));
        reconcile(ftj);
        Pod a = kubelet.startPod(ftj);
        Pod b = kubelet.startPod(ftj);
        // the second pod (by name) runs first: still no ranks until both run
        kubelet.podIp(kubelet.running(b, "2026-01-01T00:00:05Z"), "10.0.0.2");
        reconcile(ftj);
        assertThat(annotations(b)).doesNotContainKey(Gang.RANK);
        assertThat(annotations(a)).doesNotContainKey(Gang.RANK);
        kubelet.running(a, "2026-01-01T00:00:06Z");
        reconcile(ftj);
        assertThat(annotations(a)).as("no IP yet").doesNotContainKey(Gang.RANK);
        kubelet.podIp(a, "10.0.0.1");

        FineTuneJobStatus status = reconcile(ftj);

        assertThat(annotations(a)).containsEntry(Gang.RANK, "0").containsEntry(Gang.MASTER_ADDR, "10.0.0.1").containsEntry(Gang.ATTEMPT, "1");
        assertThat(annotations(b)).containsEntry(Gang.RANK, "1").containsEntry(Gang.MASTER_ADDR, "10.0.0.1").containsEntry(Gang.ATTEMPT, "1");
        assertThat(status.phase).isEqualTo(Phase.Running);
        assertThat(status.worldSize).isEqualTo(2);
        assertThat(events(ftj)).contains("Normal RanksAssigned");
        reconcile(ftj);
        assertThat(annotations(a)).as("ranks are stable within the attempt").containsEntry(Gang.RANK, "0").containsEntry(Gang.ATTEMPT, "1");
    }

    @Test
    void aFailedRankRestartsTheWholeGangAndRankZeroReportsTheResult() {
        FineTuneJob ftj = create(gang("retry", 2));
        reconcile(ftj);
        Pod a = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:00Z"), "10.0.0.1");
        Pod b = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:00Z"), "10.0.0.2");
        reconcile(ftj);
        assertThat(annotations(b)).containsEntry(Gang.RANK, "1");

        // rank 1 dies: rank 0 is not left alone in a group that lost a member, and not retried alone either
        kubelet.terminated(b, "Failed", 137, "OOMKilled", "", "2026-01-01T00:01:40Z");
        drainRequests();
        FineTuneJobStatus broken = reconcile(ftj);
        assertThat(drainRequests()).as("rank 0 of the broken attempt is evicted (never deleted); the failed pod is left for the"
                + " Job controller's count").filteredOn(r -> r.endsWith("/eviction"))
                .containsExactly("POST /api/v1/namespaces/" + TestJobs.NAMESPACE + "/pods/" + a.getMetadata().getName() + "/eviction");
        // the mock server stores the Eviction but does not act on it: play the API server (an eviction deletes the pod)
        client.pods().inNamespace(TestJobs.NAMESPACE).withName(a.getMetadata().getName()).delete();
        assertThat(events(ftj)).contains("Warning GangRestarted");
        assertThat(broken.phase).isEqualTo(Phase.Running);

        // the Job controller replaces both pods; they form attempt 2 (the failed pod of attempt 1 stays listed)
        clock.advance(Duration.ofMinutes(2));
        Pod c = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:03:00Z"), "10.0.0.3");
        reconcile(ftj);
        assertThat(annotations(c)).as("one pod of two: no ranks yet").doesNotContainKey(Gang.RANK);
        Pod d = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:03:00Z"), "10.0.0.4");
        reconcile(ftj);
        assertThat(annotations(c)).containsEntry(Gang.RANK, "0").containsEntry(Gang.ATTEMPT, "2").containsEntry(Gang.MASTER_ADDR, "10.0.0.3");
        assertThat(annotations(d)).containsEntry(Gang.RANK, "1").containsEntry(Gang.ATTEMPT, "2");
        assertThat(client.pods().inNamespace(TestJobs.NAMESPACE).list().getItems()).as("the new attempt is left running").hasSize(3);

        String result = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\"" + DIGEST
                + "\",\"sizeBytes\":42,\"format\":\"peft-lora\",\"servableBy\":[\"peft\"]},\"steps\":10}";
        kubelet.terminated(d, "Succeeded", 0, "Completed", "", "2026-01-01T00:04:45Z");   // rank 1 writes no result, ends last
        kubelet.terminated(c, "Succeeded", 0, "Completed", result, "2026-01-01T00:04:40Z");
        reconcile(ftj);
        kubelet.complete(ftj);
        FineTuneJobStatus done = reconcile(ftj);

        assertThat(done.phase).as(done.message).isEqualTo(Phase.Succeeded);
        assertThat(done.artifact.digest).isEqualTo(DIGEST);
        assertThat(done.worldSize).isEqualTo(2);
        // GPU time of every pod that ran: b 100 s, c 100 s, d 105 s, and a until its deletion was seen
        assertThat(done.usage.gpuSeconds).isGreaterThanOrEqualTo(300.0);
        assertThat(done.usage.attempts).isEqualTo(4);
    }

    /**
     * The race seen on the real 1.20 control plane: the Job controller started a third pod next to the gang's two, never
     * given a rank; once both ranks succeeded it deleted that pod, whose trainer (waiting for its rank) exited 0 with no
     * termination message after rank 0 had. The result is still rank 0's.
     */
    @Test
    void aSurplusPodWithoutARankNeverStandsInForRankZerosResult() {
        FineTuneJob ftj = create(gang("surplus", 2));
        reconcile(ftj);
        Pod a = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:00Z"), "10.0.0.1");
        Pod b = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:00Z"), "10.0.0.2");
        reconcile(ftj);
        assertThat(annotations(a)).containsEntry(Gang.RANK, "0");

        kubelet.terminated(b, "Succeeded", 0, "Completed", "", "2026-01-01T00:01:39Z");   // rank 1: no result
        Pod extra = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:01:39Z"), "10.0.0.3");
        reconcile(ftj);
        assertThat(annotations(extra)).as("one pod alone is no attempt").doesNotContainKey(Gang.RANK);
        String result = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\"" + DIGEST
                + "\",\"sizeBytes\":42,\"format\":\"peft-lora\",\"servableBy\":[\"peft\"]},\"steps\":10}";
        kubelet.terminated(a, "Succeeded", 0, "Completed", result, "2026-01-01T00:01:40Z");
        kubelet.terminated(extra, "Succeeded", 0, "Completed", "", "2026-01-01T00:01:41Z");   // stopped, ends last
        kubelet.complete(ftj);
        FineTuneJobStatus done = reconcile(ftj);

        assertThat(done.phase).as(done.message).isEqualTo(Phase.Succeeded);
        assertThat(done.artifact.digest).isEqualTo(DIGEST);
    }

    /**
     * The other race seen on the real 1.20 control plane: the Job read as Complete while rank 0's pod, in the same pass,
     * still showed Running (the Job's view newer than the pods'). The run waits for rank 0's result instead of failing
     * for a result it has not read yet (a final phase is never revisited), and the numbering of the attempt is recorded
     * on the Job.
     */
    @Test
    void aJobSeenCompleteBeforeRankZerosEndWaitsForItsResult() {
        FineTuneJob ftj = create(gang("late", 2));
        reconcile(ftj);
        Pod a = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:00Z"), "10.0.0.1");
        Pod b = kubelet.podIp(kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:00Z"), "10.0.0.2");
        reconcile(ftj);
        assertThat(annotations(a)).containsEntry(Gang.RANK, "0");
        Job job = client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).list().getItems().get(0);
        assertThat(job.getMetadata().getAnnotations()).as("the attempt is recorded on the Job").containsEntry(Gang.ATTEMPT, "1");

        kubelet.terminated(b, "Succeeded", 0, "Completed", "", "2026-01-01T00:01:39Z");   // rank 1: no result
        kubelet.complete(ftj);   // the Job as seen: Complete; rank 0's pod as seen: still Running
        FineTuneJobStatus waiting = reconcile(ftj);
        assertThat(waiting.phase).as(waiting.message).isEqualTo(Phase.Running);
        assertThat(waiting.message).contains("waiting to read the result of pod " + a.getMetadata().getName());

        String result = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\"" + DIGEST
                + "\",\"sizeBytes\":42,\"format\":\"peft-lora\",\"servableBy\":[\"peft\"]},\"steps\":10}";
        kubelet.terminated(a, "Succeeded", 0, "Completed", result, "2026-01-01T00:01:40Z");
        FineTuneJobStatus done = reconcile(ftj);
        assertThat(done.phase).as(done.message).isEqualTo(Phase.Succeeded);
        assertThat(done.artifact.digest).isEqualTo(DIGEST);
    }

    /** "METHOD path" of the requests the mock server received since the last call. */
    private static List<String> drainRequests() {
        List<String> out = new ArrayList<>();
        try {
            RecordedRequest r;
            while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
                out.add(r.getMethod() + " " + r.getPath());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    private Map<String, String> annotations(Pod pod) {
        Pod now = client.pods().inNamespace(TestJobs.NAMESPACE).withName(pod.getMetadata().getName()).get();
        return now.getMetadata().getAnnotations() == null ? Map.of() : now.getMetadata().getAnnotations();
    }
}
