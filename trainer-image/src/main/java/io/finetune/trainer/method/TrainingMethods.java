package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.method.full.FullMethod;
import io.finetune.trainer.method.galore.GaloreMethod;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.spec.GaloreSettings;
import io.finetune.trainer.spec.LoraSettings;
import io.finetune.trainer.spec.MethodSettings;

/** Creates the {@link TrainingMethod} for spec.method.type: the one place that maps a {@link MethodType} to its package. */
public final class TrainingMethods {
    private TrainingMethods() {
    }

    /** The method the settings describe; a switch without default, so a new {@link MethodType} asks for its case. */
    public static TrainingMethod create(MethodSettings settings) {
        return switch (settings.type()) {
            case LoRA, DoRA, LoRAPlus -> LoraMethod.of((LoraSettings) settings);
            case GaLore -> new GaloreMethod((GaloreSettings) settings);
            case Full -> new FullMethod();
        };
    }
}
