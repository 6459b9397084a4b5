package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.trainer.methods.DoraMethod;
import io.finetune.trainer.methods.GaloreMethod;
import io.finetune.trainer.methods.LoraPlusMethod;

/** Creates the {@link TrainingMethod} for spec.method.type. */
public final class TrainingMethods {
    private TrainingMethods() {
    }

    public static TrainingMethod create(MethodSpec spec) {
        return switch (spec.type) {
            case LoRA -> new LoraMethod(spec.loraOrDefault());
            case Full -> new FullMethod();
            case DoRA -> new DoraMethod(spec.loraOrDefault());
            case LoRAPlus -> new LoraPlusMethod(spec.loraOrDefault(), spec.loraPlus);
            case GaLore -> new GaloreMethod(spec.galoreOrDefault());
        };
    }
}
