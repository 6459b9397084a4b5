package io.finetune.trainer.model;

import java.util.Arrays;
import java.util.Optional;

/**
 * What one decoder layer attends to, as transformers' {@code config.layer_types} names it: every earlier token of its record
 * ({@code full_attention}), or only the last {@code sliding_window} of them, itself included ({@code sliding_attention}).
 */
public enum LayerAttention {
    FULL("full_attention"),
    SLIDING("sliding_attention");

    private final String hfName;

    LayerAttention(String hfName) {
        this.hfName = hfName;
    }

    /** The value in config.json's {@code layer_types}. */
    public String hfName() {
        return hfName;
    }

    public static Optional<LayerAttention> of(String hfName) {
        return Arrays.stream(values()).filter(a -> a.hfName.equals(hfName)).findFirst();
    }
}
