package io.finetune.trainer.spec;

import io.finetune.api.v1alpha1.MethodType;

/** Full fine-tuning: every parameter with AdamW; it has no settings of its own. */
public record FullSettings() implements MethodSettings {
    public static final FullSettings INSTANCE = new FullSettings();

    @Override
    public MethodType type() {
        return MethodType.Full;
    }
}
