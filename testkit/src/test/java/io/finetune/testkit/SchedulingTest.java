package io.finetune.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs on the real Job controller and scheduler, with {@link FakeNode} playing the kubelet: a GPU pod is Unschedulable
 * (scheduler message names nvidia.com/gpu) until a GPU node registers, then it is bound there, and the statuses the
 * fake kubelet writes drive the Job to Complete, or (OOMKilled) to Failed.
 */
class SchedulingTest {
    private static final String GPU = "nvidia.com/gpu";
    private static ControlPlane kube;

    @BeforeEach
    void start() {   // per test, so a missing plane reports each test as skipped with the reason
        kube = SharedPlane.get();
    }

    @Test
    void gpuPodIsUnschedulableUntilAGpuNodeRegistersThenRunsToCompletion() throws Exception {
        String ns = ControlPlaneTest.namespace("gpu");
        CountDownLatch finish = new CountDownLatch(1);
        String result = "{\"outcome\":\"Succeeded\",\"steps\":10}";
        try (FakeNode cpuOnly = FakeNode.builder("cpu-only").start(kube.client())) {
            kube.client().batch().v1().jobs().inNamespace(ns).resource(job("train", Map.of(), true)).create();

            Pod pending = kube.client().pods().inNamespace(ns).withLabel("job-name", "train")
                    .informOnCondition(pods -> pods.stream().anyMatch(p -> unschedulable(p).isPresent()))
                    .get(90, TimeUnit.SECONDS).get(0);
            assertThat(pending.getStatus().getPhase()).isEqualTo("Pending");
            assertThat(unschedulable(pending).orElseThrow().getMessage())
                    .contains("Insufficient " + GPU);

            try (FakeNode gpuNode = FakeNode.builder("gpu-1").capacity(GPU, "1").handler(pod -> {
                pod.running();
                finish.await();
                pod.succeeded(result);
            }).start(kube.client())) {
                BoundPod bound = gpuNode.awaitPods(1, java.time.Duration.ofSeconds(90)).get(0);
                assertThat(bound.name()).isEqualTo(pending.getMetadata().getName());
                assertThat(bound.pod().getSpec().getNodeName()).isEqualTo("gpu-1");
                kube.client().pods().inNamespace(ns).withName(bound.name())
                        .waitUntilCondition(p -> "Running".equals(p.getStatus().getPhase()), 30, TimeUnit.SECONDS);
                assertThat(cpuOnly.pods()).isEmpty();

                finish.countDown();
                Job done = kube.client().batch().v1().jobs().inNamespace(ns).withName("train")
                        .waitUntilCondition(j -> hasCondition(j, "Complete"), 60, TimeUnit.SECONDS);
                assertThat(done.getStatus().getSucceeded()).isEqualTo(1);
                ContainerStateTerminated term = bound.current().getStatus().getContainerStatuses().get(0)
                        .getState().getTerminated();
                assertThat(term.getExitCode()).isZero();
                assertThat(term.getMessage()).isEqualTo(result);
                assertThat(gpuNode.handlerErrors()).isEmpty();
            }
        }
    }

    @Test
    void oomKilledContainerFailsTheJobWithTheKubeletsReason() throws Exception {
        String ns = ControlPlaneTest.namespace("oom");
        try (FakeNode node = FakeNode.builder("oom-node").label("pool", "oom")
                .handler(pod -> {
                    pod.running();
                    pod.failed(137, "OOMKilled", "trainer ran out of memory at step 7");
                }).start(kube.client())) {
            kube.client().batch().v1().jobs().inNamespace(ns)
                    .resource(job("oom", Map.of("pool", "oom"), false)).create();

            Job failed = kube.client().batch().v1().jobs().inNamespace(ns).withName("oom")
                    .waitUntilCondition(j -> hasCondition(j, "Failed"), 90, TimeUnit.SECONDS);
            assertThat(failed.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Failed");
                assertThat(c.getReason()).isEqualTo("BackoffLimitExceeded");
            });
            BoundPod pod = node.pods().get(0);
            ContainerStateTerminated term = pod.current().getStatus().getContainerStatuses().get(0)
                    .getState().getTerminated();
            assertThat(pod.current().getStatus().getPhase()).isEqualTo("Failed");
            assertThat(term.getExitCode()).isEqualTo(137);
            assertThat(term.getReason()).isEqualTo("OOMKilled");
            assertThat(term.getMessage()).isEqualTo("trainer ran out of memory at step 7");
        }
    }

    /** A trainer-like Job; with {@code gpu} it asks for one nvidia.com/gpu (no GPU: it cannot land on a GPU test node). */
    private static Job job(String name, Map<String, String> nodeSelector, boolean gpu) {
        return new JobBuilder()
                .withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withBackoffLimit(0)
                .withNewTemplate().withNewSpec()
                .withRestartPolicy("Never")
                .withNodeSelector(nodeSelector)
                .addNewContainer().withName("trainer").withImage("finetune/trainer:test")
                .withCommand("java", "-jar", "/opt/finetune/finetune-trainer.jar", "pod")
                .withNewResources().withLimits(gpu ? Map.of(GPU, new Quantity("1")) : Map.of()).endResources()
                .endContainer()
                .endSpec().endTemplate()
                .endSpec().build();
    }

    private static Optional<PodCondition> unschedulable(Pod p) {
        List<PodCondition> cs = p.getStatus() == null ? List.of() : p.getStatus().getConditions();
        return cs.stream().filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
                && "Unschedulable".equals(c.getReason())).findFirst();
    }

    private static boolean hasCondition(Job j, String type) {
        if (j == null || j.getStatus() == null || j.getStatus().getConditions() == null) {
            return false;
        }
        for (JobCondition c : j.getStatus().getConditions()) {
            if (type.equals(c.getType()) && "True".equals(c.getStatus())) {
                return true;
            }
        }
        return false;
    }
}
