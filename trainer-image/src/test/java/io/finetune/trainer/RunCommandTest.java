package io.finetune.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `run <job.yaml>` end to end on a tiny model: outputs in PEFT format, summary, checkpoints, and clear errors for bad input. */
class RunCommandTest {
    @TempDir
    Path dir;

    @BeforeEach
    void modelAndData() throws Exception {
        TinyModels.writeCharModel(dir.resolve("model"));
        TinyModels.writeReversalDataset(dir.resolve("train.jsonl"), 40);
    }

    String job(String datasetUri, String extra) throws Exception {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: tiny-run
                spec:
                  model:
                    source: file://%s
                  dataset:
                    source: %s
                    format: prompt-completion
                    evalFraction: 0.2
                    maxSeqLength: 32
                  method:
                    type: LoRA
                    lora:
                      rank: 4
                      alpha: 8
                      targetModules: [q_proj, v_proj]
                  training:
                    maxSteps: 4
                    batchSize: 4
                    learningRate: 0.01
                    checkpointEverySteps: 2
                    logEverySteps: 2
                  output:
                    destination: file://%s%s
                """.formatted(dir.resolve("model"), datasetUri, dir.resolve("out"), extra);
        Path f = dir.resolve("job.yaml");
        Files.writeString(f, yaml);
        return f.toString();
    }

    record Outcome(int code, String out, String err) {
    }

    static Outcome main(String... args) {
        CliCapture.Result r = CliCapture.run(args);
        return new Outcome(r.code(), r.out(), r.err());
    }

    @Test
    void runWritesAPeftAdapterSummaryAndCheckpoints() throws Exception {
        Outcome o = main("run", job("file://" + dir.resolve("train.jsonl"), "\n    merge: true"));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("step 2/4  loss").contains("tok/s").contains("ETA").contains("eval loss");
        Path out = dir.resolve("out");
        SafetensorsFile adapter = SafetensorsFile.open(out.resolve("adapter_model.safetensors"));
        assertThat(adapter.tensors()).containsKey("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").hasSize(8);
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertThat(cfg.path("target_modules").toString()).isEqualTo("[\"q_proj\",\"v_proj\"]");
        JsonNode summary = new ObjectMapper().readTree(out.resolve("training_summary.json").toFile());
        for (String k : new String[] {"method", "steps", "trainLoss", "evalLossBefore", "evalLossAfter", "trainableParameters",
                "totalParameters", "optimizerStateBytes", "tokensPerSecond", "durationSeconds", "dataStats"}) {
            assertThat(summary.has(k)).as(k).isTrue();
        }
        assertThat(summary.path("steps").asInt()).isEqualTo(4);
        assertThat(summary.path("dataStats").path("evalRecords").asInt()).isEqualTo(8);
        assertThat(out.resolve("checkpoints/step-2/trainer_state.json")).isRegularFile();
        assertThat(out.resolve("merged/model.safetensors")).isRegularFile();
        assertThat(out.resolve("merged/tokenizer.json")).isRegularFile();
    }

    @Test
    void badInputExitsWithOneClearLine() throws Exception {
        Outcome ftp = main("run", job("ftp://host/train.jsonl", ""));
        assertThat(ftp.code()).isEqualTo(3);
        assertThat(ftp.err()).contains("ftp://host/train.jsonl");
        Files.writeString(dir.resolve("bad.jsonl"), "{\"prompt\": \"1=\", \"completion\": \"1\"}\n{not json\n");
        Outcome bad = main("run", job("file://" + dir.resolve("bad.jsonl"), ""));
        assertThat(bad.code()).isEqualTo(3);
        assertThat(bad.err()).contains("bad.jsonl:2");
        Outcome usage = main("init-model", "--preset", "huge", "--output", dir.resolve("x").toString());
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("unknown preset 'huge'");
    }
}
