package io.finetune.trainer.model;

/**
 * {@code rope_scaling} (transformers modeling_rope_utils.py): {@link Type#LLAMA3} (Llama 3.1+) stretches RoPE's inverse
 * frequencies by wavelength; {@link Type#LINEAR} (Gemma 3's global layers) divides every inverse frequency by
 * {@code factor}. The llama3 fields are unused for linear.
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {

    /** The rope_type values read here (config.json {@code rope_scaling.rope_type}, or its older key {@code type}). */
    public enum Type {
        LLAMA3("llama3"),
        LINEAR("linear");

        private final String hfName;

        Type(String hfName) {
            this.hfName = hfName;
        }

        public String hfName() {
            return hfName;
        }
    }

    public RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
        this(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
    }

    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0);
    }
}
