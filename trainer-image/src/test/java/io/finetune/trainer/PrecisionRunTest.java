package io.finetune.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.CharTokenizerWriter;
import io.finetune.trainer.io.SafetensorsFile;
import io.finetune.trainer.model.LlamaConfig;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `run` with spec.training.precision on the CPU: bf16 runs in bf16 (merged weights widened back to fp32), fp16 is refused. */
class PrecisionRunTest {
    @TempDir
    Path dir;

    @BeforeEach
    void modelAndData() throws Exception {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        LlamaConfig cfg = new LlamaConfig("llama", 32, 64, 2, 4, 2, 8, 1e-5, 10000.0, null, 102, false, false, 256);
        try (LlamaModel m = LlamaModel.random(cfg, 3, NDManager.newBaseManager())) {
            m.save(model, m.stateDict(), 1, 2);
        }
        CharTokenizerWriter.write(model, ModelPreset.ALPHABET, true);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            String w = Integer.toString(1000 + i * 37);
            sb.append("{\"prompt\": \"").append(w).append("=\", \"completion\": \"")
                    .append(new StringBuilder(w).reverse()).append("\"}\n");
        }
        Files.writeString(dir.resolve("train.jsonl"), sb);
    }

    private String job(String precision) throws Exception {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: precision-run
                spec:
                  model:
                    source: file://%s
                  dataset:
                    source: file://%s
                    format: prompt-completion
                    evalFraction: 0.2
                    maxSeqLength: 32
                  method:
                    type: LoRA
                    lora:
                      rank: 4
                      targetModules: [q_proj, v_proj]
                  training:
                    maxSteps: 2
                    batchSize: 4
                    precision: %s
                  output:
                    destination: file://%s
                    merge: true
                """.formatted(dir.resolve("model"), dir.resolve("train.jsonl"), precision, dir.resolve("out-" + precision));   // one output per run: a run never resumes another's
        Path f = dir.resolve("job-" + precision + ".yaml");
        Files.writeString(f, yaml);
        return f.toString();
    }

    @Test
    void bf16RunsInBf16OnTheCpuAndWritesFp32MergedWeights() throws Exception {
        RunCommandTest.Outcome o = RunCommandTest.main("run", job("bf16"));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("precision: BF16 (spec.training.precision BF16)");
        SafetensorsFile merged = SafetensorsFile.open(dir.resolve("out-bf16/merged/model.safetensors"));
        assertThat(merged.tensors().get("model.layers.0.mlp.up_proj.weight").dtype().name()).isEqualTo("F32");
    }

    @Test
    void autoIsFp32OnTheCpuAndFp16IsRefusedWithOneLineNamingTheField() throws Exception {
        RunCommandTest.Outcome auto = RunCommandTest.main("run", job("auto"));
        assertThat(auto.code()).as(auto.err()).isZero();
        assertThat(auto.out()).contains("precision: FP32 (spec.training.precision AUTO)");
        RunCommandTest.Outcome fp16 = RunCommandTest.main("run", job("fp16"));
        assertThat(fp16.code()).isEqualTo(3);   // bad input: the manifest asks for what this device cannot do
        assertThat(fp16.err().strip()).startsWith("error: spec.training.precision: fp16 needs a CUDA GPU").doesNotContain("\n");
    }
}
