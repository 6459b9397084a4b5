package io.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * config.json of phi3, gemma2 and gemma3_text as transformers reads it (Phi3Config, Gemma2Config, Gemma3TextConfig
 * defaults), the module names and shapes the loader, the plan and target resolution follow, what is refused (with the file
 * and the key named), and a written config reading back to the same model.
 */
class PhiGemmaConfigTest {
    @TempDir
    Path dir;

    private ModelConfig read(String modelType, String extra) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"" + modelType + "\", \"hidden_size\": 32,"
                + " \"intermediate_size\": 48, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
                + " \"num_key_value_heads\": 2, \"vocab_size\": 40" + extra + "}");
        return ModelConfig.read(dir);
    }

    @Test
    void phi3HasFusedModulesPartialRotaryAndNoWindowUnlessSet() throws Exception {
        ModelConfig c = read("phi3", ", \"partial_rotary_factor\": 0.75, \"attention_bias\": true");
        String p = "model.layers.1.";
        // qkv_proj: q (4 x 8) + k and v (2 x 8 each) rows; gate_up_proj: 2 x intermediate rows; no bias whatever the key says.
        assertThat(c.layerLinears(1)).containsExactly(new ModelConfig.LinearShape(p + "self_attn.qkv_proj", 32, 64, false),
                new ModelConfig.LinearShape(p + "self_attn.o_proj", 32, 32, false),
                new ModelConfig.LinearShape(p + "mlp.gate_up_proj", 32, 96, false),
                new ModelConfig.LinearShape(p + "mlp.down_proj", 48, 32, false));
        assertThat(c.options().rotaryDim(c.headDim())).isEqualTo(6);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5);
        assertThat(c.layerTypes()).containsOnly(LayerAttention.FULL); // Phi3Config: sliding_window defaults to None
        assertThat(read("phi3", ", \"sliding_window\": 2047").layerTypes()).containsOnly(LayerAttention.SLIDING);
        try (LlamaModel model = LlamaModel.random(c, 1, NDManager.newBaseManager())) {
            assertThat(model.linears().stream().map(Linear::name)).contains(p + "self_attn.qkv_proj", p + "mlp.gate_up_proj");
            assertThat(model.totalParameters()).isEqualTo(c.totalParams());
        }
    }

    @Test
    void phi3LongRopeAndOtherActivationsAreRefusedByName() {
        assertThatThrownBy(() -> read("phi3", ", \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1, 1]}"))
                .isInstanceOf(ModelException.class).hasMessageContaining("config.json")
                .hasMessageContaining("'rope_scaling.type' is 'longrope', which is not supported");
        assertThatThrownBy(() -> read("phi3", ", \"rope_scaling\": {\"rope_type\": \"su\"}"))
                .hasMessageContaining("'rope_scaling.rope_type' is 'su'");
        assertThatThrownBy(() -> read("phi3", ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}"))
                .hasMessageContaining("'rope_scaling.rope_type' is 'yarn'");
        assertThatThrownBy(() -> read("phi3", ", \"hidden_act\": \"gelu_new\""))
                .hasMessageContaining("'hidden_act' is 'gelu_new'; phi3 is supported with silu only");
        assertThatThrownBy(() -> read("phi3", ", \"partial_rotary_factor\": 1.5"))
                .hasMessageContaining("'partial_rotary_factor' must be in (0, 1]");
        assertThatThrownBy(() -> read("phi3", ", \"partial_rotary_factor\": 0.4")).hasMessageContaining("config.json")
                .hasMessageContaining("= 3 is odd");
    }

    @Test
    void gemma2DefaultsFourNormsAndAlternatingWindows() throws Exception {
        ModelConfig c = read("gemma2", ", \"head_dim\": 16, \"hidden_act\": \"gelu_pytorch_tanh\"");
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(read("gemma2", "").headDim()).isEqualTo(256); // Gemma2Config's default, not hidden / heads
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.options()).isEqualTo(new FamilyOptions(HiddenActivation.GELU_TANH, 1.0, 256, 50.0, 30.0, 0));
        // Gemma2Config: layer i slides unless (i + 1) % 2 == 0; window 4096 by default.
        assertThat(c.layerTypes()).containsExactly(LayerAttention.SLIDING, LayerAttention.FULL, LayerAttention.SLIDING,
                LayerAttention.FULL);
        assertThat(c.slidingWindow()).isEqualTo(4096);
        ModelConfig off = read("gemma2", ", \"attn_logit_softcapping\": null, \"final_logit_softcapping\": null,"
                + " \"query_pre_attn_scalar\": 144, \"layer_types\": [\"full_attention\", \"full_attention\","
                + " \"sliding_attention\", \"full_attention\"], \"sliding_window\": 16");
        assertThat(off.options().attnLogitSoftcapping()).isZero();
        assertThat(off.options().finalLogitSoftcapping()).isZero();
        assertThat(off.options().attentionScale(256)).isEqualTo(1 / 12.0);
        assertThat(off.windowOf(2)).hasValue(16);
        assertThat(off.windowOf(0)).isEmpty();
        // embedding + 4 norms per layer + final norm, no q/k norms in Gemma 2
        assertThat(c.nonLinearParams()).isEqualTo(40L * 32 + (4L * 4 + 1) * 32);
        try (LlamaModel model = LlamaModel.random(c, 1, NDManager.newBaseManager())) {
            assertThat(model.baseParameters()).containsKeys("model.layers.3.pre_feedforward_layernorm.weight",
                    "model.layers.3.post_feedforward_layernorm.weight");
            assertThat(model.totalParameters()).isEqualTo(c.totalParams());
        }
    }

    @Test
    void gemma3PatternLocalBaseAndLinearScaling() throws Exception {
        ModelConfig c = read("gemma3_text", ", \"head_dim\": 16, \"sliding_window\": 512,"
                + " \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 8.0}");
        // Gemma3TextConfig: sliding_window_pattern 6, so a 4-layer model slides everywhere; rope_theta 1e6, local 1e4.
        assertThat(c.layerTypes()).containsOnly(LayerAttention.SLIDING);
        assertThat(c.ropeTheta()).isEqualTo(1e6);
        assertThat(c.options().ropeLocalBaseFreq()).isEqualTo(1e4);
        assertThat(c.options().attnLogitSoftcapping()).isZero();
        assertThat(c.options().finalLogitSoftcapping()).isZero();
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.linear(8.0));
        assertThat(read("gemma3_text", ", \"sliding_window_pattern\": 2").layerTypes()).containsExactly(LayerAttention.SLIDING,
                LayerAttention.FULL, LayerAttention.SLIDING, LayerAttention.FULL);
        assertThat(c.nonLinearParams()).isEqualTo(40L * 32 + (4L * 4 + 1) * 32 + 2L * 4 * 16);
        try (LlamaModel model = LlamaModel.random(c, 1, NDManager.newBaseManager())) {
            assertThat(model.baseParameters()).containsKeys("model.layers.0.self_attn.q_norm.weight",
                    "model.layers.0.post_feedforward_layernorm.weight");
            assertThat(model.totalParameters()).isEqualTo(c.totalParams());
        }
    }

    @Test
    void gemmaRefusalsNameTheFileAndTheKey() {
        assertThatThrownBy(() -> read("gemma2", ", \"hidden_activation\": \"gelu\"")).isInstanceOf(ModelException.class)
                .hasMessageContaining("config.json")
                .hasMessageContaining("'hidden_activation' is 'gelu'; gemma2 is supported with gelu_pytorch_tanh only");
        assertThatThrownBy(() -> read("gemma3_text", ", \"attention_bias\": true"))
                .hasMessageContaining("'attention_bias' true is not supported for gemma3_text");
        assertThatThrownBy(() -> read("gemma2", ", \"sliding_window\": null"))
                .hasMessageContaining("'sliding_window' is null but gemma2 has sliding_attention layers");
        assertThatThrownBy(() -> read("gemma2", ", \"final_logit_softcapping\": -1"))
                .hasMessageContaining("'final_logit_softcapping' must be a positive number");
        assertThatThrownBy(() -> read("gemma3_text", ", \"sliding_window_pattern\": 0"))
                .hasMessageContaining("'sliding_window_pattern' must be a positive integer");
    }

    @Test
    void writtenConfigsReadBackToTheSameModel() throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        for (ModelConfig c : List.of(read("phi3", ", \"partial_rotary_factor\": 0.5, \"sliding_window\": 8"),
                read("gemma2", ", \"head_dim\": 16, \"final_logit_softcapping\": null, \"sliding_window\": 8"),
                read("gemma3_text", ", \"head_dim\": 16, \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2},"
                        + " \"sliding_window_pattern\": 3, \"query_pre_attn_scalar\": 20"))) {
            c.write(out, 1, 2);
            assertThat(ModelConfig.read(out)).as(c.modelType()).isEqualTo(c);
            assertThat(Files.readString(out.resolve("config.json"))).contains("\"" + c.family().architecture() + "\"");
        }
    }
}
