package io.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.finetune.testkit.RepoRoot;
import io.finetune.trainer.data.Batch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * config.json of each family as transformers reads it: where a sliding window applies (nothing is refused for having one),
 * Qwen3's head_dim and q/k norms in the parameter count, and clear errors naming the file and the key.
 */
class ModelFamiliesConfigTest {
    @TempDir
    Path dir;

    private ModelConfig read(String modelType, String extra) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"" + modelType + "\", \"hidden_size\": 32,"
                + " \"intermediate_size\": 48, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
                + " \"num_key_value_heads\": 2, \"vocab_size\": 40" + extra + "}");
        return ModelConfig.read(dir);
    }

    @Test
    void mistralV01WindowIsHonouredOnEveryLayerAndNullTurnsItOff() throws Exception {
        ModelConfig v01 = read("mistral", ", \"sliding_window\": 4096");
        assertThat(v01.slidingWindow()).isEqualTo(4096);
        assertThat(v01.layerTypes()).containsOnly(LayerAttention.SLIDING);
        assertThat(v01.windowOf(3)).hasValue(4096);
        // MistralConfig's default when the key is absent is 4096 as well; v0.2+ writes null.
        assertThat(read("mistral", "").slidingWindow()).isEqualTo(4096);
        ModelConfig v02 = read("mistral", ", \"sliding_window\": null");
        assertThat(v02.layerTypes()).containsOnly(LayerAttention.FULL);
        assertThat(v02.windowOf(0)).isEmpty();
    }

    @Test
    void qwenWindowsOnlyWithUseSlidingWindowFromMaxWindowLayersOrLayerTypes() throws Exception {
        assertThat(read("qwen2", ", \"sliding_window\": 4096, \"use_sliding_window\": false").layerTypes())
                .containsOnly(LayerAttention.FULL);
        ModelConfig fromMax = read("qwen2", ", \"sliding_window\": 8, \"use_sliding_window\": true, \"max_window_layers\": 2");
        assertThat(fromMax.layerTypes()).containsExactly(LayerAttention.FULL, LayerAttention.FULL, LayerAttention.SLIDING,
                LayerAttention.SLIDING);
        // Without max_window_layers transformers' default 28 leaves a 4-layer model unwindowed.
        assertThat(read("qwen2", ", \"sliding_window\": 8, \"use_sliding_window\": true").layerTypes())
                .containsOnly(LayerAttention.FULL);
        ModelConfig explicit = read("qwen3", ", \"sliding_window\": 8, \"use_sliding_window\": true, \"layer_types\":"
                + " [\"sliding_attention\", \"full_attention\", \"sliding_attention\", \"full_attention\"]");
        assertThat(explicit.layerTypes()).containsExactly(LayerAttention.SLIDING, LayerAttention.FULL, LayerAttention.SLIDING,
                LayerAttention.FULL);
    }

    @Test
    void writtenConfigReadsBackToTheSameWindows() throws Exception {
        ModelConfig c = read("qwen2", ", \"sliding_window\": 8, \"use_sliding_window\": true, \"max_window_layers\": 1");
        Path out = Files.createDirectories(dir.resolve("out"));
        c.write(out, 1, 2);
        assertThat(ModelConfig.read(out)).isEqualTo(c);
        ModelConfig m = read("mistral", ", \"sliding_window\": 16");
        m.write(out, 1, 2);
        assertThat(ModelConfig.read(out)).isEqualTo(m);
        assertThat(Files.readString(out.resolve("config.json"))).contains("\"MistralForCausalLM\"");
    }

    @Test
    void aSequenceShorterThanTheWindowGetsTheCausalMaskUnchanged() {
        Batch batch = Batch.ofSequences(new int[][] {{5, 6, 7, 8, 9, 10}, {5, 6, 7}}, 0);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] causal = AttentionMask.build(m, batch).toFloatArray();
            assertThat(AttentionMask.build(m, batch, OptionalInt.of(6)).toFloatArray()).containsExactly(causal);
            float[] windowed = AttentionMask.build(m, batch, OptionalInt.of(2)).toFloatArray();
            // Row 0, query 5 sees keys 4 and 5 only (itself and window-1 = 1 before it).
            for (int j = 0; j < 6; j++) {
                assertThat(windowed[5 * 6 + j]).as("key " + j).isEqualTo(j >= 4 ? 0f : AttentionMask.BLOCKED);
            }
        }
    }

    @Test
    void qwen3HeadDimQkNormsAndNoBias() throws Exception {
        ModelConfig q3 = read("qwen3", ", \"head_dim\": 16, \"tie_word_embeddings\": true");
        assertThat(q3.family()).isEqualTo(ModelFamily.QWEN3);
        assertThat(q3.attentionBias()).isFalse();
        assertThat(q3.layerLinears(0).get(0)).isEqualTo(new ModelConfig.LinearShape("model.layers.0.self_attn.q_proj", 32,
                64, false));
        // embedding + 2 norms per layer + final norm + q_norm and k_norm (head_dim each) per layer
        assertThat(q3.nonLinearParams()).isEqualTo(40L * 32 + (2L * 4 + 1) * 32 + 2L * 4 * 16);
        assertThat(q3.linears()).noneMatch(l -> l.name().equals(ModelConfig.LM_HEAD));
        // Qwen3Config's head_dim defaults to 128, not hidden / heads.
        assertThat(read("qwen3", "").headDim()).isEqualTo(128);
        try (LlamaModel model = LlamaModel.random(q3, 1, NDManager.newBaseManager())) {
            assertThat(model.baseParameters()).containsKeys("model.layers.3.self_attn.q_norm.weight",
                    "model.layers.3.self_attn.k_norm.weight");
            assertThat(model.totalParameters()).isEqualTo(q3.totalParams());
        }
    }

    /** kubectl explain finetunejob.spec.model.source names exactly the families the loader takes. */
    @Test
    void crdDescriptionNamesEveryFamily() throws Exception {
        // YAML's folded double-quoted scalar: a trailing backslash joins the lines, "\ " is a space.
        String crd = Files.readString(RepoRoot.find().resolve("crds/finetunejobs.finetune.io-v1.yml"))
                .replaceAll("\\\\\n\\s*\\\\ ", " ");
        int at = crd.indexOf("whose model_type is ");
        assertThat(at).as("spec.model.source describes the model types").isPositive();
        String listed = crd.substring(at, crd.indexOf(';', at));
        assertThat(listed.replace("whose model_type is ", "").replace(" (sliding windows honoured)", "").split(",? (or )?"))
                .containsExactlyInAnyOrderElementsOf(ModelFamily.modelTypes());
    }

    @Test
    void badWindowKeysNameTheFileAndTheKey() {
        assertThatThrownBy(() -> read("mistral", ", \"sliding_window\": -1")).isInstanceOf(ModelException.class)
                .hasMessageContaining("config.json").hasMessageContaining("'sliding_window' must be a positive integer");
        assertThatThrownBy(() -> read("qwen2", ", \"use_sliding_window\": \"yes\"")).isInstanceOf(ModelException.class)
                .hasMessageContaining("'use_sliding_window' must be true or false");
        assertThatThrownBy(() -> read("qwen2", ", \"use_sliding_window\": true, \"layer_types\": [\"full_attention\"]"))
                .hasMessageContaining("'layer_types' must be a list of 4 entries");
        assertThatThrownBy(() -> read("qwen2", ", \"use_sliding_window\": true, \"layer_types\": [\"full_attention\","
                + " \"full_attention\", \"chunked_attention\", \"full_attention\"]"))
                .hasMessageContaining("'layer_types'[2] is 'chunked_attention'");
        assertThatThrownBy(() -> new ModelConfig("mistral", 32, 48, 2, 4, 2, 8, 1e-6, 1e4, null, 40, false, false, 64, 0,
                List.of(LayerAttention.SLIDING, LayerAttention.FULL))).hasMessageContaining("sliding_window is 0");
        assertThatThrownBy(() -> new ModelConfig("mistral", 32, 48, 2, 4, 2, 8, 1e-6, 1e4, null, 40, false, false, 64, 4,
                Collections.nCopies(3, LayerAttention.SLIDING))).hasMessageContaining("3 entries for 2 layers");
    }
}
