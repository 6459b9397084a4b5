package io.finetune.trainer.model;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The decoder families the trainer loads, by their Hugging Face {@code model_type}: one place for what differs between them,
 * so that the loader, the config writer, the plan and target resolution ask the family instead of comparing strings.
 * All are the LLaMA block (RMSNorm, rotate-half RoPE, GQA, a gated MLP); the differences are the flags below and the keys
 * of {@link FamilyOptions}.
 */
public enum ModelFamily {
    /** transformers modeling_llama.py. */
    LLAMA("llama", "LlamaForCausalLM", false, false, false, false),
    /** modeling_qwen2.py: q/k/v bias always; sliding window on layers >= max_window_layers when use_sliding_window. */
    QWEN2("qwen2", "Qwen2ForCausalLM", true, false, false, false),
    /** modeling_mistral.py: every layer windowed when sliding_window is set (v0.1: 4096; later versions: null). */
    MISTRAL("mistral", "MistralForCausalLM", false, false, false, false),
    /** modeling_qwen3.py: per-head RMSNorm of q and k ({@code q_norm}, {@code k_norm}, over head_dim) before RoPE. */
    QWEN3("qwen3", "Qwen3ForCausalLM", false, true, false, false),
    /**
     * modeling_phi3.py (Phi-3, Phi-3.5, Phi-4): fused {@code qkv_proj} (q, k, v rows stacked) and {@code gate_up_proj} (gate
     * rows, then up), {@code partial_rotary_factor}; every layer windowed when {@code sliding_window} is set.
     */
    PHI3("phi3", "Phi3ForCausalLM", false, false, true, false),
    /**
     * modeling_gemma2.py: RMSNorm x (1 + w) in fp32, four norms per layer, GeGLU (tanh GELU), embeddings times
     * sqrt(hidden_size), query_pre_attn_scalar, attention and final logit soft-capping, sliding window on even layers.
     */
    GEMMA2("gemma2", "Gemma2ForCausalLM", false, false, false, true),
    /** modeling_gemma3.py (text): Gemma 2's block with q/k norms, a local RoPE base for sliding layers, 5:1 pattern. */
    GEMMA3_TEXT("gemma3_text", "Gemma3ForCausalLM", false, true, false, true);

    private final String modelType;
    private final String architecture;
    private final boolean alwaysQkvBias;
    private final boolean qkNorm;
    private final boolean fusedProjections;
    private final boolean gemmaBlock;

    ModelFamily(String modelType, String architecture, boolean alwaysQkvBias, boolean qkNorm, boolean fusedProjections,
                boolean gemmaBlock) {
        this.modelType = modelType;
        this.architecture = architecture;
        this.alwaysQkvBias = alwaysQkvBias;
        this.qkNorm = qkNorm;
        this.fusedProjections = fusedProjections;
        this.gemmaBlock = gemmaBlock;
    }

    /** Phi-3: one {@code qkv_proj} and one {@code gate_up_proj} module per layer instead of q/k/v and gate/up. */
    public boolean fusedProjections() {
        return fusedProjections;
    }

    /**
     * Gemma's block: norms x (1 + w) in fp32, a norm after attention and after the MLP besides the ones before them
     * ({@code pre_feedforward_layernorm}, {@code post_feedforward_layernorm}), embeddings scaled by sqrt(hidden_size).
     */
    public boolean gemmaBlock() {
        return gemmaBlock;
    }

    /** The MLP's activation transformers uses for this family (the only one read for it). */
    public HiddenActivation hiddenActivation() {
        return gemmaBlock ? HiddenActivation.GELU_TANH : HiddenActivation.SILU;
    }

    /** config.json's {@code model_type}. */
    public String modelType() {
        return modelType;
    }

    /** config.json's {@code architectures[0]}, as transformers writes it. */
    public String architecture() {
        return architecture;
    }

    /** Qwen2's q/k/v projections carry a bias whatever {@code attention_bias} says (transformers hard-codes it). */
    public boolean alwaysQkvBias() {
        return alwaysQkvBias;
    }

    /** Whether each layer normalises q and k per head ({@code self_attn.q_norm}, {@code self_attn.k_norm}). */
    public boolean qkNorm() {
        return qkNorm;
    }

    public static Optional<ModelFamily> of(String modelType) {
        return Arrays.stream(values()).filter(f -> f.modelType.equals(modelType)).findFirst();
    }

    /** The supported model_type values, sorted (for error messages and docs). */
    public static List<String> modelTypes() {
        return Arrays.stream(values()).map(ModelFamily::modelType).sorted().toList();
    }
}
