package io.finetune.trainer.model;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds decoder layer {@code i} of a family from its Hugging Face weight names: which linears (from
 * {@link ModelConfig#layerLinears}), which norms, which block ({@link LlamaDecoderLayer} or {@link GemmaDecoderLayer}).
 */
final class DecoderLayers {
    /** Where a layer's weights come from (the model's loader: plain, or quantized at load). */
    interface Weights {
        Parameter param(String name, long... shape) throws IOException;

        Linear linear(String module, long out, long in, boolean bias) throws IOException;
    }

    private DecoderLayers() {
    }

    static DecoderLayer build(ModelConfig config, int i, Weights w) throws IOException {
        String p = ModelConfig.layerPrefix(i);
        ModelFamily family = config.family();
        Map<String, Linear> m = new HashMap<>();
        for (ModelConfig.LinearShape s : config.layerLinears(i)) { // weights read in the config's module order
            m.put(s.name().substring(p.length()), w.linear(s.name(), s.out(), s.in(), s.bias()));
        }
        boolean gemma = family.gemmaBlock();
        double eps = config.rmsNormEps();
        RmsNorm qNorm = family.qkNorm() ? new RmsNorm(w.param(p + "self_attn.q_norm.weight", config.headDim()), eps, gemma) : null;
        RmsNorm kNorm = family.qkNorm() ? new RmsNorm(w.param(p + "self_attn.k_norm.weight", config.headDim()), eps, gemma) : null;
        List<Linear> qkv = family.fusedProjections() ? List.of(m.get("self_attn.qkv_proj"))
                : List.of(m.get("self_attn.q_proj"), m.get("self_attn.k_proj"), m.get("self_attn.v_proj"));
        Attention attn = new Attention(config, qkv, m.get("self_attn.o_proj"), qNorm, kNorm);
        List<Linear> mlpIn = family.fusedProjections() ? List.of(m.get("mlp.gate_up_proj"))
                : List.of(m.get("mlp.gate_proj"), m.get("mlp.up_proj"));
        Mlp mlp = new Mlp(mlpIn, m.get("mlp.down_proj"), config.options().hiddenActivation());
        int d = config.hiddenSize();
        RmsNorm input = new RmsNorm(w.param(p + "input_layernorm.weight", d), eps, gemma);
        RmsNorm postAttention = new RmsNorm(w.param(p + "post_attention_layernorm.weight", d), eps, gemma);
        if (!gemma) {
            return new LlamaDecoderLayer(input, attn, postAttention, mlp);
        }
        return new GemmaDecoderLayer(input, attn, postAttention,
                new RmsNorm(w.param(p + "pre_feedforward_layernorm.weight", d), eps, true), mlp,
                new RmsNorm(w.param(p + "post_feedforward_layernorm.weight", d), eps, true));
    }
}
