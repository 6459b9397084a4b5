package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.LoraPlusSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.method.full.FullMethod;
import io.finetune.trainer.method.galore.GaloreMethod;
import io.finetune.trainer.method.lora.LoraMethod;

/** Creates the {@link TrainingMethod} for spec.method.type: the one place that maps a {@link MethodType} to its package. */
public final class TrainingMethods {
    private TrainingMethods() {
    }

    public static TrainingMethod create(MethodSpec spec) {
        return switch (spec.type) {
            case LoRA -> new LoraMethod(spec.loraOrDefault());
            case DoRA -> LoraMethod.dora(spec.loraOrDefault());
            case LoRAPlus -> LoraMethod.loraPlus(spec.loraOrDefault(), spec.loraPlus);
            case GaLore -> new GaloreMethod(spec.galoreOrDefault());
            case Full -> new FullMethod();
        };
    }

    /**
     * {@code type} with the job's settings blocks where they apply and the defaults elsewhere: the plan compares every method
     * on the job's model. LoRA+'s ratio only scales learning rates, so a method that is not the job's gets ratio 1 (memory is
     * the same for any ratio).
     */
    public static TrainingMethod forPlan(MethodType type, MethodSpec settings) {
        MethodSpec s = new MethodSpec();
        s.type = type;
        s.lora = settings == null ? null : settings.lora;
        s.galore = settings == null ? null : settings.galore;
        s.loraPlus = settings != null && settings.type == MethodType.LoRAPlus ? settings.loraPlus : null;
        if (type == MethodType.LoRAPlus && (s.loraPlus == null || s.loraPlus.learningRateRatio == null
                || !(s.loraPlus.learningRateRatio >= 1))) {
            s.loraPlus = new LoraPlusSpec();
            s.loraPlus.learningRateRatio = 1.0;
        }
        return create(s);
    }
}
