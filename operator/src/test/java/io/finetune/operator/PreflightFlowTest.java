package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;
import io.finetune.operator.naming.Names;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.PreflightResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.api.v1alpha1.PreflightStatus;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** spec.preflight: Auto on the mock API server: the CPU Job first, the GPU Job only after its verdict passed. */
class PreflightFlowTest extends ControllerTestBase {
    private static FineTuneJob job(String name, String resources) {
        return TestJobs.parse(name, """
                model: {source: pvc://models/tiny-llama}
                dataset: {source: pvc://data/train.jsonl}
                method: {type: LoRA}
                output: {destination: pvc://out/run}
                preflight: Auto
                resources: %s
                """.formatted(resources));
    }

    @AfterEach
    void removeNodes() {
        client.nodes().delete();
    }

    private Job preflightJob(FineTuneJob ftj) {
        return client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).withName(ftj.getMetadata().getName() + "-check").get();
    }

    private String env(Job job, String name) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst().orElse(null);
    }

    /** Plays the preflight pod: terminated with the verdict as its termination message. */
    private void verdict(FineTuneJob ftj, PreflightResult r) {
        Job pf = preflightJob(ftj);
        Map<String, String> labels = pf.getSpec().getTemplate().getMetadata().getLabels();
        client.pods().inNamespace(TestJobs.NAMESPACE).resource(new PodBuilder().withNewMetadata()
                .withName(pf.getMetadata().getName() + "-x1").withNamespace(TestJobs.NAMESPACE).withLabels(labels).endMetadata()
                .withSpec(pf.getSpec().getTemplate().getSpec())
                .withNewStatus().withPhase(r.passed() ? "Succeeded" : "Failed").withContainerStatuses(new ContainerStatusBuilder()
                        .withName(Names.CONTAINER).withNewState().withNewTerminated().withExitCode(r.passed() ? 0 : 1)
                        .withMessage(r.toJson()).endTerminated().endState().build()).endStatus().build()).create();
    }

    @Test
    void failedPreflightEndsTheJobWithItsReasonAndNeverCreatesTheGpuJob() {
        FineTuneJob ftj = create(job("bad-data", "{gpus: 1, gpuMemory: 80Gi}"));
        FineTuneJobStatus s = reconcile(ftj);

        assertThat(s.phase).isEqualTo(Phase.Pending);
        assertThat(s.message).contains("bad-data-check");
        assertThat(jobs()).extracting(j -> j.getMetadata().getName()).containsExactly("bad-data-check");
        Job pf = preflightJob(ftj);
        var c = pf.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(c.getCommand()).endsWith("preflight");
        assertThat(c.getResources().getLimits()).containsOnlyKeys("cpu", "memory");
        assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("2Gi");
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(pf.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("bad-data-trainer");
        assertThat(pf.getSpec().getBackoffLimit()).isZero();
        assertThat(env(pf, "FINETUNE_GPU_MEMORY_BYTES")).isEqualTo(String.valueOf(80L << 30));

        verdict(ftj, PreflightResult.failed(PreflightResult.Reason.InvalidDataset,
                "/mnt/pvc/data/train.jsonl:3: malformed JSON: Unexpected end-of-input", new PreflightStatus()));
        s = reconcile(ftj);
        reconcile(ftj);

        assertThat(s.phase).isEqualTo(Phase.Failed);
        Condition failed = Conditions.find(s.conditions, ConditionType.Failed).orElseThrow();
        assertThat(failed.getReason()).isEqualTo("InvalidDataset");
        assertThat(failed.getMessage()).contains("train.jsonl:3");
        assertThat(Conditions.find(s.conditions, ConditionType.PreflightPassed).orElseThrow().getStatus()).isEqualTo("False");
        assertThat(jobs()).as("no GPU Job, ever").extracting(j -> j.getMetadata().getName()).containsExactly("bad-data-check");
        assertThat(events(ftj)).contains("Warning InvalidDataset");
    }

    @Test
    void passedPreflightRecordsItsFiguresThenCreatesTheGpuJob() {
        FineTuneJob ftj = create(job("good", "{gpus: 1}"));
        reconcile(ftj);
        PreflightStatus report = new PreflightStatus();
        report.records = 41L;
        report.tokens = 1234L;
        report.truncated = 1L;
        report.skipped = 0L;
        report.fits = true;
        report.gpuMemoryBytes = 80L << 30;
        report.plannedBytes = new PreflightStatus.PlannedBytes();
        report.plannedBytes.total = 5L << 30;
        verdict(ftj, PreflightResult.passed("41 records", report));

        FineTuneJobStatus s = reconcile(ftj);

        assertThat(jobs()).extracting(j -> j.getMetadata().getName()).containsExactlyInAnyOrder("good-check", "good-trainer");
        assertThat(s.phase).as("the preflight pod is not mistaken for a training pod").isEqualTo(Phase.Pending);
        assertThat(Conditions.find(s.conditions, ConditionType.PreflightPassed).orElseThrow().getStatus()).isEqualTo("True");
        assertThat(s.preflight.records).isEqualTo(41L);
        assertThat(s.preflight.plannedBytes.total).isEqualTo(5L << 30);
        s = reconcile(ftj);
        assertThat(s.preflight.tokens).as("kept on later passes").isEqualTo(1234L);
        assertThat(events(ftj)).contains("Normal PreflightPassed", "Normal JobCreated");

        // A pass that worked from a stale cache wrote the conditions without PreflightPassed: the next pass restores it
        // from the preflight pod's verdict.
        FineTuneJob stored = get(ftj);
        stored.getStatus().conditions.removeIf(c -> c.getType().equals("PreflightPassed"));
        statusWriter.write(get(ftj), stored.getStatus());
        assertThat(Conditions.find(get(ftj).getStatus().conditions, ConditionType.PreflightPassed)).isEmpty();
        s = reconcile(ftj);
        assertThat(Conditions.find(s.conditions, ConditionType.PreflightPassed).orElseThrow().getStatus()).isEqualTo("True");
    }

    @Test
    void gpuMemoryComesFromTheSmallestLabelOfTheNodesTheJobMayUse() {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("a100").withLabels(Map.of("pool", "gpu",
                "nvidia.com/gpu.memory", "40960")).endMetadata().build()).create();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("h100").withLabels(Map.of("pool", "gpu",
                "nvidia.com/gpu.memory", "81559")).endMetadata().build()).create();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("t4").withLabels(Map.of("pool", "small",
                "nvidia.com/gpu.memory", "15360")).endMetadata().build()).create();
        FineTuneJob ftj = create(job("labels", "{gpus: 1, nodeSelector: {pool: gpu}}"));
        reconcile(ftj);
        assertThat(env(preflightJob(ftj), "FINETUNE_GPU_MEMORY_BYTES")).isEqualTo(String.valueOf(40960L << 20));

        FineTuneJob unknown = create(job("nolabel", "{gpus: 1, nodeSelector: {pool: tpu}}"));
        reconcile(unknown);
        assertThat(env(preflightJob(unknown), "FINETUNE_GPU_MEMORY_BYTES")).isNull();
        assertThat(env(preflightJob(unknown), "FINETUNE_GPU_MEMORY_NOTE")).contains("nvidia.com/gpu.memory").contains("not checked");
    }

    @Test
    void skipCreatesTheGpuJobDirectly() {
        FineTuneJob ftj = create(TestJobs.lora("skipped"));
        reconcile(ftj);
        assertThat(jobs()).extracting(j -> j.getMetadata().getName()).containsExactly("skipped-trainer");
    }

    @Test
    void aCrashedPreflightPodIsPreflightErrorWithItsLogTail() {
        FineTuneJob ftj = create(job("crash", "{gpus: 1}"));
        reconcile(ftj);
        Job pf = preflightJob(ftj);
        client.pods().inNamespace(TestJobs.NAMESPACE).resource(new PodBuilder().withNewMetadata().withName("crash-check-x")
                .withNamespace(TestJobs.NAMESPACE).withLabels(pf.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
                .withNewStatus().withPhase("Failed").withContainerStatuses(new ContainerStatusBuilder().withName(Names.CONTAINER)
                        .withNewState().withNewTerminated().withExitCode(137).withMessage("Exception in thread main\nKilled")
                        .endTerminated().endState().build()).endStatus().build()).create();
        FineTuneJobStatus s = reconcile(ftj);
        assertThat(s.phase).isEqualTo(Phase.Failed);
        assertThat(Conditions.find(s.conditions, ConditionType.Failed).orElseThrow().getReason()).isEqualTo("PreflightError");
        assertThat(s.message).contains("137").contains("Killed");
        assertThat(jobs()).hasSize(1);
    }
}
