package io.finetune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/**
 * The config.json keys that Phi-3 and Gemma add to the LLaMA block, read with transformers' defaults (Phi3Config,
 * Gemma2Config, Gemma3TextConfig) and written back under the same keys:
 * <ul>
 *   <li>{@code hiddenActivation}: {@code hidden_act} (LLaMA, Qwen, Mistral, Phi-3) or {@code hidden_activation} (Gemma);</li>
 *   <li>{@code partialRotaryFactor}: Phi-3's {@code partial_rotary_factor}, the fraction of each head RoPE rotates;</li>
 *   <li>{@code queryPreAttnScalar}: Gemma's {@code query_pre_attn_scalar}; scores are scaled by its -1/2 power
 *       (0: head_dim, as the other families);</li>
 *   <li>{@code attnLogitSoftcapping}, {@code finalLogitSoftcapping}: Gemma's c in tanh(x / c) c on the attention scores and
 *       the logits (0: off, as {@code null} in config.json);</li>
 *   <li>{@code ropeLocalBaseFreq}: Gemma 3's RoPE base for sliding-window layers (0: every layer uses rope_theta).</li>
 * </ul>
 */
public record FamilyOptions(HiddenActivation hiddenActivation, double partialRotaryFactor, double queryPreAttnScalar,
                            double attnLogitSoftcapping, double finalLogitSoftcapping, double ropeLocalBaseFreq) {

    /** What the LLaMA block computes (every family before Phi-3 and Gemma). */
    public static final FamilyOptions LLAMA = new FamilyOptions(HiddenActivation.SILU, 1.0, 0, 0, 0, 0);

    public FamilyOptions {
        if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) {
            throw new ModelException("partial_rotary_factor must be in (0, 1], got " + partialRotaryFactor);
        }
    }

    /** The leading dims of each head that RoPE rotates (transformers: int(head_dim * partial_rotary_factor)). */
    public int rotaryDim(int headDim) {
        return (int) (headDim * partialRotaryFactor);
    }

    /** The attention scores' scale: query_pre_attn_scalar^-1/2 where set, else head_dim^-1/2. */
    public double attentionScale(int headDim) {
        return 1.0 / Math.sqrt(queryPreAttnScalar > 0 ? queryPreAttnScalar : headDim);
    }

    static FamilyOptions read(JsonNode n, Path file, ModelFamily family) {
        boolean gemma = family.gemmaBlock();
        String actKey = gemma ? "hidden_activation" : "hidden_act";
        String actName = n.path(actKey).asText(gemma ? HiddenActivation.GELU_TANH.hfName() : HiddenActivation.SILU.hfName());
        HiddenActivation act = HiddenActivation.of(actName).filter(a -> a == family.hiddenActivation())
                .orElseThrow(() -> new ModelException(file + ": '" + actKey + "' is '" + actName + "'; " + family.modelType()
                        + " is supported with " + family.hiddenActivation().hfName() + " only"));
        double partial = 1.0;
        if (family == ModelFamily.PHI3 && n.hasNonNull("partial_rotary_factor")) {
            partial = positive(n, file, "partial_rotary_factor");
            if (partial > 1) {
                throw new ModelException(file + ": 'partial_rotary_factor' must be in (0, 1], got " + partial);
            }
        }
        if (!gemma) {
            return new FamilyOptions(act, partial, 0, 0, 0, 0);
        }
        boolean g2 = family == ModelFamily.GEMMA2;
        // Gemma2Config: softcapping 50 (attention) and 30 (final) by default; Gemma3TextConfig: none.
        return new FamilyOptions(act, partial, n.has("query_pre_attn_scalar") ? positive(n, file, "query_pre_attn_scalar") : 256,
                optionalCap(n, file, "attn_logit_softcapping", g2 ? 50.0 : 0),
                optionalCap(n, file, "final_logit_softcapping", g2 ? 30.0 : 0),
                g2 ? 0 : n.has("rope_local_base_freq") ? positive(n, file, "rope_local_base_freq") : 10000.0);
    }

    private static double positive(JsonNode n, Path file, String key) {
        JsonNode v = n.get(key);
        if (v == null || !v.isNumber() || !(v.asDouble() > 0)) {
            throw new ModelException(file + ": '" + key + "' must be a positive number, got " + v);
        }
        return v.asDouble();
    }

    /** Absent: the family's default; null: off; else a positive number. */
    private static double optionalCap(JsonNode n, Path file, String key, double absent) {
        if (!n.has(key)) {
            return absent;
        }
        return n.get(key).isNull() ? 0 : positive(n, file, key);
    }

    /** Writes the keys {@link #read} reads back to these options. */
    void write(ObjectNode n, ModelFamily family) {
        n.put(family.gemmaBlock() ? "hidden_activation" : "hidden_act", hiddenActivation.hfName());
        if (family == ModelFamily.PHI3) {
            n.put("partial_rotary_factor", partialRotaryFactor);
        }
        if (family.gemmaBlock()) {
            n.put("query_pre_attn_scalar", queryPreAttnScalar);
            putCap(n, "attn_logit_softcapping", attnLogitSoftcapping);
            putCap(n, "final_logit_softcapping", finalLogitSoftcapping);
            if (family == ModelFamily.GEMMA3_TEXT) {
                n.put("rope_local_base_freq", ropeLocalBaseFreq);
            }
        }
    }

    private static void putCap(ObjectNode n, String key, double cap) {
        if (cap > 0) {
            n.put(key, cap);
        } else {
            n.putNull(key);
        }
    }
}
