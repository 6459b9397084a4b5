package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.desired.TrainingJob;
import io.finetune.operator.naming.Names;
import io.finetune.operator.settings.OperatorSettings;

/**
 * Builds the objects a pass observes, without any API server: a FineTuneJob as a user writes it, its Job as the operator
 * builds it, and pods in the states the Job controller, scheduler and kubelet would write. For the pure deriver's tests.
 */
final class Observed {
    static final String DIGEST = "sha256:" + "ab".repeat(32);
    static final String SUCCEEDED = "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\""
            + DIGEST + "\",\"sizeBytes\":1,\"format\":\"peft-lora\"},\"steps\":20}";
    static final String PREEMPTED = "{\"outcome\":\"Failed\",\"reason\":\"Preempted\",\"message\":\"stopped by SIGTERM after"
            + " step 7/20\",\"steps\":7}";

    private Observed() {
    }

    static FineTuneJob lora(String name, String extraSpec) throws FineTuneJobManifest.InvalidManifestException {
        String spec = """
                model: {source: 'pvc://models/tiny-llama'}
                dataset: {source: 'pvc://data/train.jsonl'}
                method: {type: LoRA, lora: {rank: 8, alpha: 16, targetModules: [q_proj, v_proj]}}
                output: {destination: 's3://adapters/run-1', credentialsSecret: s3-creds}
                resources: {gpus: 1}
                preflight: Skip
                """ + extraSpec;
        FineTuneJob job = FineTuneJobManifest.parse("apiVersion: finetune.io/v1alpha1\nkind: FineTuneJob\nmetadata:\n  name: "
                + name + "\nspec:\n" + spec.indent(2), "test");
        job.setMetadata(new ObjectMetaBuilder(job.getMetadata()).withNamespace("team-a").withUid("uid-" + name)
                .withGeneration(1L).build());
        return job;
    }

    static Job job(FineTuneJob ftj) {
        return TrainingJob.desired(ftj, OperatorSettings.defaults());
    }

    static Job complete(Job job) {
        job.setStatus(new JobStatusBuilder().withSucceeded(1).withCompletionTime("2026-01-01T01:00:00Z")
                .withConditions(new JobConditionBuilder().withType("Complete").withStatus("True").build()).build());
        return job;
    }

    static Job failed(Job job, String reason, int failedPods) {
        job.setStatus(new JobStatusBuilder().withFailed(failedPods).withConditions(new JobConditionBuilder().withType("Failed")
                .withStatus("True").withReason(reason).withMessage("Job has reached the specified backoff limit")
                .withLastTransitionTime("2026-01-01T02:00:00Z").build()).build());
        return job;
    }

    static Pod pending(Job job, String name) {
        return new PodBuilder().withMetadata(new ObjectMetaBuilder().withName(name).withNamespace("team-a")
                        .withLabels(job.getSpec().getTemplate().getMetadata().getLabels()).build())
                .withSpec(job.getSpec().getTemplate().getSpec()).withNewStatus().withPhase("Pending").endStatus().build();
    }

    static Pod unschedulable(Job job, String name, String message) {
        Pod pod = pending(job, name);
        pod.getStatus().setConditions(java.util.List.of(new PodConditionBuilder().withType("PodScheduled").withStatus("False")
                .withReason("Unschedulable").withMessage(message).build()));
        return pod;
    }

    static Pod running(Job job, String name) {
        Pod pod = pending(job, name);
        pod.setSpec(new io.fabric8.kubernetes.api.model.PodSpecBuilder(pod.getSpec()).withNodeName("gpu-node-1").build());
        pod.getStatus().setPhase("Running");
        pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder().withName(Names.CONTAINER)
                .withNewState().withNewRunning("2026-01-01T00:00:05Z").endState().build()));
        return pod;
    }

    static Pod waiting(Job job, String name, String reason) {
        Pod pod = pending(job, name);
        pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder().withName(Names.CONTAINER)
                .withNewState().withNewWaiting("Back-off pulling image", reason).endState().build()));
        return pod;
    }

    static Pod terminated(Job job, String name, String phase, int exitCode, String reason, String message) {
        Pod pod = pending(job, name);
        pod.getStatus().setPhase(phase);
        pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder().withName(Names.CONTAINER)
                .withNewState().withNewTerminated().withExitCode(exitCode).withReason(reason).withMessage(message)
                .withStartedAt("2026-01-01T00:00:05Z").withFinishedAt("2026-01-01T00:05:05Z").endTerminated().endState().build()));
        return pod;
    }
}
