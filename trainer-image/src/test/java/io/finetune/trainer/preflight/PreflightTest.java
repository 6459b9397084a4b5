package io.finetune.trainer.preflight;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.PreflightResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.storage.Storage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU preflight on a model directory that holds config.json and the tokenizer but no weights at all. */
class PreflightTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void modelWithoutWeightsAndData() throws Exception {
        Path model = TinyModels.writeCharModel(dir.resolve("model"));
        try (var files = Files.list(model)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).toList()) {
                Files.delete(f);   // preflight must never need the weights
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            String w = Integer.toString(1000 + i * 37);
            sb.append("{\"prompt\": \"").append(w).append("=\", \"completion\": \"").append(new StringBuilder(w).reverse()).append("\"}\n");
        }
        sb.append("{\"prompt\": \"1=\", \"completion\": \"").append("1".repeat(60)).append("\"}\n");   // overlong: truncated
        Files.writeString(dir.resolve("train.jsonl"), sb);
        Files.writeString(dir.resolve("bad.jsonl"), "{\"prompt\": \"1=\", \"completion\": \"1\"}\n"
                + "{\"prompt\": \"2=\", \"completion\": \"2\"}\n{\"prompt\": \"3=\", \"completion\"\n");
        Files.createDirectories(dir.resolve("out"));
    }

    static Path manifest(String name, String dataset, String method) throws Exception {
        return manifest(name, dir.resolve("model"), dataset, method);
    }

    static Path manifest(String name, Path model, String dataset, String method) throws Exception {
        return Files.writeString(dir.resolve(name + ".yaml"), """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s, namespace: ml}
                spec:
                  model: {source: "file://%s"}
                  dataset: {source: "file://%s", format: prompt-completion, evalFraction: 0.2, maxSeqLength: 32}
                  method: %s
                  training: {maxSteps: 4, batchSize: 4}
                  output: {destination: "file://%s"}
                """.formatted(name, model, dir.resolve(dataset), method, dir.resolve("out")));
    }

    static PreflightResult check(String name, String dataset, String method, Long gpu) throws Exception {
        return check(name, dir.resolve("model"), dataset, method, gpu);
    }

    static PreflightResult check(String name, Path model, String dataset, String method, Long gpu) throws Exception {
        FineTuneJob job = FineTuneJobManifest.read(manifest(name, model, dataset, method));
        Path scratch = Files.createDirectories(dir.resolve("scratch-" + name));
        try (Storage storage = Storage.fromEnvironment(scratch.resolve("cache"))) {
            return Preflight.check(RunSpecReader.read(job), storage, scratch, gpu, PreflightPod.NO_GPU_MEMORY);
        }
    }

    @Test
    void passingJobReportsRecordsTokensAndThePlanWithoutTheWeights() throws Exception {
        PreflightResult r = check("ok", "train.jsonl", "{type: LoRA, lora: {rank: 4, targetModules: [q_proj, v_proj]}}", 80L << 30);

        assertThat(r.passed()).as(r.message()).isTrue();
        assertThat(r.report().records).isEqualTo(41);
        assertThat(r.report().truncated).isEqualTo(1);
        assertThat(r.report().skipped).isZero();
        assertThat(r.report().tokens).isPositive();
        assertThat(r.report().plannedBytes.weights).isPositive();
        assertThat(r.report().plannedBytes.total).isGreaterThan(r.report().plannedBytes.weights);
        assertThat(r.report().fits).isTrue();
        assertThat(r.report().gpuMemoryBytes).isEqualTo(80L << 30);
    }

    @Test
    void unknownGpuMemorySkipsTheMemoryCheckWithANote() throws Exception {
        PreflightResult r = check("nogpu", "train.jsonl", "{type: LoRA}", null);
        assertThat(r.passed()).isTrue();
        assertThat(r.report().fits).isNull();
        assertThat(r.report().note).contains("memory not checked");
    }

    @Test
    void badDatasetLineIsNamedByFileAndLine() throws Exception {
        PreflightResult r = check("bad", "bad.jsonl", "{type: LoRA}", null);
        assertThat(r.passed()).isFalse();
        assertThat(r.reason()).isEqualTo(PreflightResult.Reason.InvalidDataset);
        assertThat(r.message()).contains("bad.jsonl:3");
    }

    @Test
    void unknownTargetModuleListsTheModulesThatExist() throws Exception {
        PreflightResult r = check("qkv", "train.jsonl", "{type: LoRA, lora: {targetModules: [qkv_proj, v_proj]}}", null);
        assertThat(r.reason()).isEqualTo(PreflightResult.Reason.TargetModulesNotFound);
        assertThat(r.message()).startsWith("spec.method.lora.targetModules: qkv_proj matches no module")
                .contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
    }

    /** Phi-3's linears are the fused ones PEFT names: q_proj does not exist there, all-linear resolves to them. */
    @Test
    void phi3TargetsAreTheFusedModules() throws Exception {
        Path phi3 = TinyModels.writeCharModel(dir.resolve("phi3"));
        try (var files = Files.list(phi3)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).toList()) {
                Files.delete(f);
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(phi3.resolve("config.json").toFile());
        config.put("model_type", "phi3").putArray("architectures").add("Phi3ForCausalLM");
        json.writeValue(phi3.resolve("config.json").toFile(), config);
        PreflightResult r = check("phi3-q", phi3, "train.jsonl", "{type: LoRA, lora: {targetModules: [q_proj, v_proj]}}", null);
        assertThat(r.reason()).isEqualTo(PreflightResult.Reason.TargetModulesNotFound);
        assertThat(r.message()).startsWith("spec.method.lora.targetModules: q_proj, v_proj match no module")
                .contains("qkv_proj, o_proj, gate_up_proj, down_proj");
        PreflightResult all = check("phi3-all", phi3, "train.jsonl", "{type: LoRA, lora: {targetModules: [all-linear]}}",
                80L << 30);
        assertThat(all.passed()).as(all.message()).isTrue();
    }

    @Test
    void fullFineTuneThatCannotFitNamesThePlanAndWhatWouldFit() throws Exception {
        PreflightResult r = check("full", "train.jsonl", "{type: Full}", 1L << 30);
        assertThat(r.reason()).isEqualTo(PreflightResult.Reason.InsufficientGPUMemory);
        assertThat(r.message()).contains("Full needs").contains("weights").contains("optimizer").contains("the GPU has 1.00 GiB")
                .contains("gradientAccumulationSteps");
        assertThat(r.report().fits).isFalse();
        assertThat(r.report().plannedBytes.optimizer).isPositive();
    }

    @Test
    void podModeWritesTheVerdictAsTheTerminationMessage() throws Exception {
        Path log = dir.resolve("termination-log");
        Map<String, String> env = new HashMap<>();
        env.put("FINETUNE_CONFIG", manifest("pod", "bad.jsonl", "{type: LoRA}").toString());
        env.put("FINETUNE_SCRATCH", Files.createDirectories(dir.resolve("scratch-pod")).toString());
        env.put("FINETUNE_TERMINATION_LOG", log.toString());
        env.put(PreflightPod.GPU_MEMORY_BYTES, String.valueOf(80L << 30));
        int exit = PreflightPod.inPod(env, new PrintStream(new ByteArrayOutputStream()));

        assertThat(exit).isEqualTo(1);
        PreflightResult r = PreflightResult.parse(Files.readString(log)).orElseThrow();
        assertThat(r.reason()).isEqualTo(PreflightResult.Reason.InvalidDataset);
        assertThat(r.message()).contains("bad.jsonl:3");
        assertThat(r.report().fits).as("the memory plan ran before the dataset").isTrue();
    }
}
