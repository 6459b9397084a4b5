package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.ControlPlane;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * spec.preflight: Auto on the real control plane: the packaged operator creates the CPU preflight Job, the node runs the
 * real trainer's {@code preflight} in it, and only a passing job ever gets a GPU Job.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PreflightEndToEndTest {
    static final String NS = "ml";

    @TempDir
    static Path work;
    static OperatorCluster cluster;
    static ControlPlane kube;
    static TrainerKubelet kubelet;
    static final List<Long> verdictMillis = new ArrayList<>();

    @BeforeAll
    static void startEverything() throws Exception {
        cluster = OperatorCluster.start(work, NS, plane -> kubelet = new TrainerKubelet(plane, work.resolve("pods")));
        kube = cluster.kube();
        TinyLoraJob.initModelAndData(work);
        Files.writeString(work.resolve("bad.jsonl"), "{\"prompt\": \"12=\", \"completion\": \"21\"}\n"
                + "{\"prompt\": \"34=\", \"completion\": \"43\"}\n{\"prompt\": \"56=\", \"completion\": \n");
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (!verdictMillis.isEmpty()) {
            List<Long> sorted = verdictMillis.stream().sorted().toList();
            System.out.println("apply -> preflight verdict (ms): " + verdictMillis + ", p50 " + sorted.get((sorted.size() - 1) / 2));
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void logs() {
        System.out.println("== trainer output:\n" + (kubelet == null ? "" : kubelet.logs()));
    }

    static void submit(String name, String dataset, String method, String extra) {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s, namespace: %s}
                spec:
                  image: finetune/finetune-trainer:e2e
                  model: {source: "file://%s"}
                  dataset: {source: "file://%s", format: prompt-completion, evalFraction: 0.125, maxSeqLength: 32}
                  method: %s
                  training: {maxSteps: 6, batchSize: 4, learningRate: 0.01, seed: 11}
                  backoffLimit: 0
                  output: {destination: "file://%s"}
                %s
                """.formatted(name, NS, work.resolve("model"), work.resolve(dataset), method, work.resolve("out").resolve(name),
                extra.indent(2));
        FineTuneJob job = kube.client().resources(FineTuneJob.class)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        kube.client().resources(FineTuneJob.class).inNamespace(NS).resource(job).create();
    }

    /** Submits, waits for the end, and records how long the preflight verdict took from the apply. */
    static FineTuneJob run(String name, String dataset, String method, String extra, Duration timeout) throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, name)) {
            long t0 = System.nanoTime();
            submit(name, dataset, method, extra);
            rec.await(j -> j.getStatus() != null && j.getStatus().conditions != null && j.getStatus().conditions.stream()
                    .anyMatch(c -> c.getType().equals("PreflightPassed")), Duration.ofSeconds(120), name + " preflight verdict");
            verdictMillis.add((System.nanoTime() - t0) / 1_000_000);
            FineTuneJob done = rec.await(j -> StatusRecorder.inPhase(j, Phase.Succeeded) || StatusRecorder.inPhase(j, Phase.Failed),
                    timeout, name + " to finish");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/" + name + ":\n" + rec.transcript());
            return done;
        }
    }

    static Condition failed(FineTuneJobStatus s) {
        return s.conditions.stream().filter(c -> c.getType().equals("Failed")).findFirst().orElseThrow();
    }

    static void noGpuJobEver(String name) {
        assertThat(kube.client().batch().v1().jobs().inNamespace(NS).withName(name + "-trainer").get()).isNull();
        assertThat(kubelet.runs().keySet()).as("pods the node ran").noneMatch(p -> p.startsWith(name + "-trainer"));
    }

    @Test
    @Order(1)
    void badDatasetLineFailsInPreflightWithFileAndLineAndNoGpuPod() throws Exception {
        FineTuneJob done = run("pf-bad", "bad.jsonl", "{type: LoRA, lora: {rank: 4}}", "", Duration.ofSeconds(30));
        System.out.println("kubectl get ftj pf-bad -o yaml:\n" + Serialization.asYaml(done));
        FineTuneJobStatus s = done.getStatus();
        assertThat(s.phase).isEqualTo(Phase.Failed);
        assertThat(failed(s).getReason()).isEqualTo("InvalidDataset");
        assertThat(failed(s).getMessage()).contains("bad.jsonl:3");
        noGpuJobEver("pf-bad");
        assertThat(kubelet.runs().keySet()).anyMatch(p -> p.startsWith("pf-bad-check"));
    }

    @Test
    @Order(2)
    void unknownTargetModuleListsTheModulesOfTheLlama() throws Exception {
        FineTuneJob done = run("pf-qkv", "train.jsonl", "{type: LoRA, lora: {rank: 4, targetModules: [qkv_proj]}}", "",
                Duration.ofSeconds(30));
        assertThat(failed(done.getStatus()).getReason()).isEqualTo("TargetModulesNotFound");
        assertThat(failed(done.getStatus()).getMessage()).contains("qkv_proj")
                .contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
        noGpuJobEver("pf-qkv");
    }

    @Test
    @Order(3)
    void fullFineTuneThatCannotFitTheDeclaredGpuMemoryFailsWithThePlan() throws Exception {
        FineTuneJob done = run("pf-full", "train.jsonl", "{type: Full}", "resources: {gpus: 1, gpuMemory: 1Gi}",
                Duration.ofSeconds(30));
        assertThat(failed(done.getStatus()).getReason()).isEqualTo("InsufficientGPUMemory");
        assertThat(failed(done.getStatus()).getMessage()).contains("Full needs").contains("the GPU has 1.00 GiB");
        assertThat(done.getStatus().preflight.fits).isFalse();
        assertThat(done.getStatus().preflight.plannedBytes.optimizer).isPositive();
        noGpuJobEver("pf-full");
    }

    @Test
    @Order(4)
    void passingJobGoesThroughPreflightToSucceededWithTheFigures() throws Exception {
        FineTuneJob done = run("pf-ok", "train.jsonl", "{type: LoRA, lora: {rank: 4, targetModules: [q_proj, v_proj]}}",
                "resources: {gpus: 1, gpuMemory: 80Gi}", Duration.ofSeconds(150));
        FineTuneJobStatus s = done.getStatus();
        assertThat(s.phase).isEqualTo(Phase.Succeeded);
        assertThat(s.preflight.records).isEqualTo(48L);
        assertThat(s.preflight.tokens).isPositive();
        assertThat(s.preflight.fits).isTrue();
        assertThat(s.preflight.gpuMemoryBytes).isEqualTo(80L << 30);
        assertThat(s.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("PreflightPassed");
            assertThat(c.getStatus()).isEqualTo("True");
        });
        assertThat(s.artifact.servableBy).containsExactly("peft", "vllm");
    }

    @Test
    @Order(5)
    void unmetEvaluationGateEndsEvaluationGateFailed() throws Exception {
        FineTuneJob done = run("pf-gate", "train.jsonl", "{type: LoRA, lora: {rank: 4}}",
                "evaluation: {minRelativeImprovement: 0.9}", Duration.ofSeconds(150));
        FineTuneJobStatus s = done.getStatus();
        assertThat(s.phase).isEqualTo(Phase.Failed);
        assertThat(failed(s).getReason()).isEqualTo("EvaluationGateFailed");
        assertThat(failed(s).getMessage()).contains("before training").contains("rejected/");
        assertThat(s.metrics.evalLossBefore).isNotNull();
        assertThat(s.artifact).isNull();
        assertThat(work.resolve("out/pf-gate/rejected/adapter_config.json")).exists();
        assertThat(work.resolve("out/pf-gate/adapter_config.json")).doesNotExist();
    }
}
