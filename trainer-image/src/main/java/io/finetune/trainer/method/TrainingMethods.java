package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.MethodSpec;

/** Creates the {@link TrainingMethod} for spec.method.type. */
public final class TrainingMethods {
    private TrainingMethods() {
    }

    public static TrainingMethod create(MethodSpec spec) {
        return switch (spec.type) {
            case LoRA -> new LoraMethod(spec.loraOrDefault());
            case Full -> new FullMethod();
            case DoRA, LoRAPlus, GaLore -> throw new UnsupportedOperationException(
                    "spec.method.type " + spec.type + " is not supported in this build yet (supported: LoRA, Full)");
        };
    }
}
