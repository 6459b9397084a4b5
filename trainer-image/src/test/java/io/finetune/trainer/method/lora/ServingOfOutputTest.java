package io.finetune.trainer.method.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.finetune.api.ArtifactFormat;
import io.finetune.api.Serving;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.safetensors.SafetensorsFile;
import io.finetune.trainer.method.MethodOutput;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.method.full.FullMethod;
import io.finetune.trainer.model.LlamaModel;
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
        // Judged from what a Full run really writes: the output it reports, and a directory those servers load.
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 3, NDManager.newBaseManager())) {
            FullMethod full = new FullMethod();
            full.attach(model, 1);
            MethodOutput written = full.saveOutput(model, OutputTarget.of(out, "random-init"));
            model.config().write(out, 1, 2);
            assertThat(written.format()).isEqualTo(ArtifactFormat.HF_FULL);
            assertThat(written.servableBy()).containsExactly("transformers", "vllm", "tgi");
            assertThat(SafetensorsFile.open(out.resolve(ModelWeights.SINGLE)).tensors().keySet())
                    .as("transformers' LLaMA parameter names")
                    .contains("model.embed_tokens.weight", "model.norm.weight", "model.layers.0.self_attn.q_proj.weight");
            assertThat(out.resolve("adapter_config.json")).as("full weights, not an adapter").doesNotExist();
            try (LlamaModel reloaded = LlamaModel.load(out, NDManager.newBaseManager())) {
                assertThat(reloaded.totalParameters()).isEqualTo(model.totalParameters());
            }
        }
    }
}
