package io.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.model.ModelPreset;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitModelTest {
    @TempDir
    Path dir;

    @Test
    void writesALoadableHuggingFaceDirectoryDeterministically() throws Exception {
        ModelPreset.TINY.write(7, dir.resolve("a"));
        ModelPreset.TINY.write(7, dir.resolve("b"));
        ModelPreset.TINY.write(8, dir.resolve("c"));
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
            assertThat(dir.resolve("a").resolve(f)).isRegularFile();
        }
        assertThat(Files.readAllBytes(dir.resolve("a/model.safetensors"))).isEqualTo(Files.readAllBytes(dir.resolve("b/model.safetensors")));
        assertThat(Files.readAllBytes(dir.resolve("a/model.safetensors"))).isNotEqualTo(Files.readAllBytes(dir.resolve("c/model.safetensors")));
        ModelConfig cfg = ModelConfig.read(dir.resolve("a"));
        assertThat(cfg).isEqualTo(ModelPreset.TINY.config());
        try (TextTokenizer tok = TextTokenizer.load(dir.resolve("a"));
             LlamaModel model = LlamaModel.load(dir.resolve("a"), NDManager.newBaseManager())) {
            assertThat(tok.vocabSize()).isEqualTo(cfg.vocabSize());
            assertThat(tok.decode(tok.encode("abc=cba"))).isEqualTo("abc=cba");
            assertThat(model.totalParameters()).isGreaterThan(100_000);
        }
    }

    @Test
    void unsupportedArchitectureAndMissingTensorsAreNamed() throws Exception {
        ModelPreset.TINY.write(7, dir);
        String cfg = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"model_type\" : \"llama\"", "\"model_type\" : \"gpt2\""));
        assertThatThrownBy(() -> ModelConfig.read(dir)).isInstanceOf(ModelException.class)
                .hasMessageContaining("config.json").hasMessageContaining("'gpt2'").hasMessageContaining("llama");
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"num_hidden_layers\" : 4", "\"num_hidden_layers\" : 5"));
        assertThatThrownBy(() -> LlamaModel.load(dir, NDManager.newBaseManager()))
                .hasMessageContaining("missing tensor 'model.layers.4.");
    }
}
