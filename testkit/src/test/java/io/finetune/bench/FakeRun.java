package io.finetune.bench;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;

/**
 * One FineTuneJob run from create to Succeeded on a control plane without controllers or nodes: the bench plays the Job
 * controller (creates the pod from the Job's template, marks the Job Complete) and the kubelet (pod Running, then
 * Succeeded with the trainer's result as termination message), in the order a cluster writes them. Each request it
 * sends is counted in the tally, so the server's counter minus the tally is the operator's.
 */
final class FakeRun {
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    private final KubernetesClient c;
    private final ApiRequests tally;
    private final ResourceDefinitionContext ftj;

    FakeRun(KubernetesClient c, ApiRequests tally, ResourceDefinitionContext ftj) {
        this.c = c;
        this.tally = tally;
        this.ftj = ftj;
    }

    /** Drives the run of FineTuneJob {@code name} (created by the caller) to Succeeded; returns its phase at the end. */
    String run(String ns, String name, Duration timeout) throws InterruptedException {
        // the phase is followed on a watch, not polled: one request, however long the operator takes
        Map<String, String> phases = new ConcurrentHashMap<>();
        Watch watch = c.genericKubernetesResources(ftj).inNamespace(ns).withName(name).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, GenericKubernetesResource r) {
                if (r.getAdditionalProperties().get("status") instanceof Map<?, ?> m && m.get("phase") != null) {
                    phases.put(name, String.valueOf(m.get("phase")));
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
        try {
            return drive(ns, name, phases, System.nanoTime() + timeout.toNanos());
        } finally {
            watch.close();
            tally.sent("WATCH finetunejobs");
        }
    }

    private String drive(String ns, String name, Map<String, String> phases, long deadline) throws InterruptedException {
        Job job = await(() -> c.batch().v1().jobs().inNamespace(ns).withName(name + "-trainer").get(), "GET jobs", deadline);
        Pod pod = c.pods().inNamespace(ns).resource(new PodBuilder()
                .withNewMetadata().withName(name + "-trainer-0").withNamespace(ns)
                .withLabels(job.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec())
                // no token controller runs here to give the job's ServiceAccount a token to mount
                .editSpec().withAutomountServiceAccountToken(false).endSpec()
                .build()).create();
        tally.sent("POST pods");
        String now = Instant.now().toString();
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running").withStartTime(now)
                .withContainerStatuses(new ContainerStatusBuilder().withName("trainer").withImage("trainer").withImageID("")
                        .withReady(true).withRestartCount(0).withNewState().withNewRunning(now).endState().build()).build());
        pod = c.pods().inNamespace(ns).resource(pod).updateStatus();
        tally.sent("PUT pods/status");
        awaitPhase(phases, name, "Running", deadline);
        String result = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"file:///out/" + name + "/final\",\"digest\":\"" + DIGEST
                + "\",\"sizeBytes\":1,\"format\":\"peft-lora\",\"servableBy\":[\"peft\"]},\"steps\":10}";
        String end = Instant.now().toString();
        pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Succeeded").withStartTime(now)
                .withContainerStatuses(new ContainerStatusBuilder().withName("trainer").withImage("trainer").withImageID("")
                        .withReady(false).withRestartCount(0).withNewState().withNewTerminated().withExitCode(0)
                        .withReason("Completed").withMessage(result).withStartedAt(now).withFinishedAt(end).endTerminated()
                        .endState().build()).build());
        c.pods().inNamespace(ns).resource(pod).updateStatus();
        tally.sent("PUT pods/status");
        for (int attempt = 0; ; attempt++) {   // the operator may patch the Job (its attempt ledger) in between: read again
            Job fresh = c.batch().v1().jobs().inNamespace(ns).withName(name + "-trainer").get();
            tally.sent("GET jobs");
            fresh.setStatus(new io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder().withStartTime(now).withCompletionTime(end)
                    .withSucceeded(1).withActive(0).withConditions(new JobConditionBuilder().withType("Complete").withStatus("True")
                            .withLastProbeTime(end).withLastTransitionTime(end).build()).build());
            try {
                tally.sent("PUT jobs/status");
                c.batch().v1().jobs().inNamespace(ns).resource(fresh).updateStatus();
                break;
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= 10) {
                    throw e;
                }
            }
        }
        return awaitPhase(phases, name, "Succeeded", deadline);
    }

    private static String awaitPhase(Map<String, String> phases, String name, String phase, long deadline) throws InterruptedException {
        while (System.nanoTime() < deadline && !phase.equals(phases.get(name))) {
            Thread.sleep(50);
        }
        return phases.get(name);
    }

    private <T> T await(java.util.function.Supplier<T> get, String key, long deadline) throws InterruptedException {
        while (System.nanoTime() < deadline) {
            T t = get.get();
            tally.sent(key);
            if (t != null) {
                return t;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("timed out waiting (" + key + ")");
    }
}
