package io.finetune.trainer.model;

/** {@code rope_scaling} of type llama3 (Llama 3.1+): frequency-dependent stretching of RoPE's inverse frequencies. */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
}
