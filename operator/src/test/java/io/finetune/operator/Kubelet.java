package io.finetune.operator;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.finetune.operator.naming.Names;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.v1alpha1.FineTuneJob;

/**
 * Plays the Job controller, scheduler and kubelet on the mock API server: creates the Job's pods and writes the pod
 * and Job status they would write. Only the fields the operator reads are set.
 */
final class Kubelet {
    private final KubernetesClient client;
    private int podCount;

    Kubelet(KubernetesClient client) {
        this.client = client;
    }

    Job job(FineTuneJob ftj) {
        return client.batch().v1().jobs().inNamespace(ftj.getMetadata().getNamespace()).withName(Names.trainer(ftj)).get();
    }

    /** The Job controller creating a pod from the template. */
    Pod startPod(FineTuneJob ftj) {
        Job job = job(ftj);
        Pod pod = new PodBuilder()
                .withNewMetadata().withName(job.getMetadata().getName() + "-" + (podCount++))
                .withNamespace(job.getMetadata().getNamespace())
                .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
                .endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec())
                .withNewStatus().withPhase("Pending").endStatus()
                .build();
        return client.pods().resource(pod).create();
    }

    /** Applies {@code change} to the latest stored version of the pod (the kubelet never writes from a stale copy). */
    private Pod edit(Pod stale, java.util.function.Consumer<Pod> change) {
        Pod pod = client.pods().inNamespace(stale.getMetadata().getNamespace()).withName(stale.getMetadata().getName()).get();
        change.accept(pod);
        return client.pods().resource(pod).update();
    }

    Pod unschedulable(Pod stale, String message) {
        return edit(stale, pod -> pod.getStatus().setConditions(java.util.List.of(new PodConditionBuilder().withType("PodScheduled").withStatus("False")
                .withReason("Unschedulable").withMessage(message).build())));
    }

    Pod running(Pod stale, String startedAt) {
        return edit(stale, pod -> {
        pod.getSpec().setNodeName("gpu-node-1");
        pod.getStatus().setPhase("Running");
        pod.getStatus().setConditions(java.util.List.of(new PodConditionBuilder().withType("PodScheduled").withStatus("True").build()));
        pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder().withName(Names.CONTAINER)
                .withNewState().withNewRunning(startedAt).endState().build()));
        });
    }

    /** The pod's sandbox got an IP (what a gang's rank 0 hands the others as its master address). */
    Pod podIp(Pod stale, String ip) {
        return edit(stale, pod -> pod.getStatus().setPodIP(ip));
    }

    Pod waiting(Pod stale, String reason, String message) {
        return edit(stale, pod -> pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder().withName(Names.CONTAINER)
                .withNewState().withNewWaiting(message, reason).endState().build())));
    }

    Pod terminated(Pod stale, String phase, int exitCode, String reason, String message, String finishedAt) {
        return edit(stale, pod -> {
        pod.getStatus().setPhase(phase);
        pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder().withName(Names.CONTAINER)
                .withNewState().withNewTerminated().withExitCode(exitCode).withReason(reason).withMessage(message)
                .withStartedAt("2026-01-01T00:00:05Z").withFinishedAt(finishedAt).endTerminated().endState().build()));
        });
    }

    Job complete(FineTuneJob ftj) {
        Job job = job(ftj);
        job.setStatus(new io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder().withSucceeded(1)
                .withCompletionTime("2026-01-01T01:00:00Z")
                .withConditions(new JobConditionBuilder().withType("Complete").withStatus("True").build()).build());
        return client.batch().v1().jobs().resource(job).update();
    }

    Job fail(FineTuneJob ftj, String reason, int failedPods) {
        Job job = job(ftj);
        job.setStatus(new io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder().withFailed(failedPods)
                .withConditions(new JobConditionBuilder().withType("Failed").withStatus("True").withReason(reason)
                        .withMessage("Job has reached the specified " + (reason.equals("DeadlineExceeded") ? "deadline" : "backoff limit"))
                        .withLastTransitionTime("2026-01-01T02:00:00Z").build()).build());
        return client.batch().v1().jobs().resource(job).update();
    }

    Job failedPods(FineTuneJob ftj, int failed) {
        Job job = job(ftj);
        job.setStatus(new io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder().withFailed(failed).withActive(1).build());
        return client.batch().v1().jobs().resource(job).update();
    }
}
