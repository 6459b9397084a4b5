package io.finetune.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.safetensors.SafetensorsFile;
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
        TinyModels.writeCharModel(dir.resolve("model"));
        TinyModels.writeReversalDataset(dir.resolve("train.jsonl"), 20);
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
