package io.finetune.trainer.model;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The decoder families the trainer loads, by their Hugging Face {@code model_type}: one place for what differs between them,
 * so that the loader, the config writer, the plan and target resolution ask the family instead of comparing strings.
 * All are the LLaMA block (RMSNorm, rotate-half RoPE, GQA, SwiGLU); the differences are the flags below.
 */
public enum ModelFamily {
    /** transformers modeling_llama.py. */
    LLAMA("llama", "LlamaForCausalLM", false, false),
    /** modeling_qwen2.py: q/k/v bias always; sliding window on layers >= max_window_layers when use_sliding_window. */
    QWEN2("qwen2", "Qwen2ForCausalLM", true, false),
    /** modeling_mistral.py: every layer windowed when sliding_window is set (v0.1: 4096; later versions: null). */
    MISTRAL("mistral", "MistralForCausalLM", false, false),
    /** modeling_qwen3.py: per-head RMSNorm of q and k ({@code q_norm}, {@code k_norm}, over head_dim) before RoPE. */
    QWEN3("qwen3", "Qwen3ForCausalLM", false, true);

    private final String modelType;
    private final String architecture;
    private final boolean alwaysQkvBias;
    private final boolean qkNorm;

    ModelFamily(String modelType, String architecture, boolean alwaysQkvBias, boolean qkNorm) {
        this.modelType = modelType;
        this.architecture = architecture;
        this.alwaysQkvBias = alwaysQkvBias;
        this.qkNorm = qkNorm;
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
