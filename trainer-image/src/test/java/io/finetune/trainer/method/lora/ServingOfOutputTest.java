package io.finetune.trainer.method.lora;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.Serving;
import io.finetune.trainer.method.full.FullMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** status.artifact.servableBy is judged from the adapter_config.json the trainer wrote, not from what the spec asked. */
class ServingOfOutputTest {
    @TempDir
    Path out;

    private Serving.Verdict judge(String config) throws Exception {
        Files.writeString(out.resolve("adapter_config.json"), config);
        return PeftAdapterWriter.servingOf(out);
    }

    @Test
    void doraAdapterIsNotServableByVllm() throws Exception {
        Serving.Verdict v = judge("{\"r\": 8, \"use_dora\": true, \"modules_to_save\": null}");
        assertThat(v.servableBy()).containsExactly("peft");
        assertThat(v.vllmProblem()).contains("use_dora");
    }

    @Test
    void modulesToSaveIsNotServableByVllm() throws Exception {
        Serving.Verdict v = judge("{\"r\": 8, \"use_dora\": false, \"modules_to_save\": [\"lm_head\"]}");
        assertThat(v.servableBy()).containsExactly("peft");
        assertThat(v.vllmProblem()).contains("modules_to_save");
    }

    @Test
    void rank24IsServableByVllmWithMaxLoraRank32AndMergedWeightsAreNamed() throws Exception {
        Files.createDirectories(out.resolve("merged"));
        Serving.Verdict v = judge("{\"r\": 24, \"use_dora\": false, \"modules_to_save\": null}");
        assertThat(v.servableBy()).containsExactly("peft", "vllm");
        assertThat(v.note()).contains("--max-lora-rank 32").contains("merged/");
    }

    @Test
    void fullWeightsAreServableByAnyHuggingFaceServer() throws Exception {
        assertThat(FullMethod.OUTPUT.servableBy()).containsExactly("transformers", "vllm", "tgi");
    }
}
