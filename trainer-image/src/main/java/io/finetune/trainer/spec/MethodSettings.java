package io.finetune.trainer.spec;

import io.finetune.api.v1alpha1.MethodType;

/**
 * The method of a run with its typed settings: {@link LoraSettings} (LoRA, DoRA, LoRA+), {@link GaloreSettings} or
 * {@link FullSettings}. {@code TrainingMethods.create} maps each to its package.
 */
public sealed interface MethodSettings permits LoraSettings, GaloreSettings, FullSettings {
    MethodType type();

    /**
     * The settings of {@code type} for the memory plan, which compares every method on the job's model: the job's own
     * settings block where it applies, the defaults elsewhere. LoRA+'s ratio only scales learning rates, so a LoRA+ that is
     * not the job's method gets ratio 1 (memory is the same for any ratio).
     */
    static MethodSettings forPlan(MethodType type, MethodSettings job) {
        return switch (type) {
            case LoRA, DoRA, LoRAPlus -> {
                LoraSettings base = job instanceof LoraSettings l ? l : RunSpecReader.defaultLora();
                double ratio = type == MethodType.LoRAPlus && job.type() == MethodType.LoRAPlus
                        ? base.learningRateRatio() : 1.0;
                yield base.as(type, ratio);
            }
            case GaLore -> job instanceof GaloreSettings g ? g : RunSpecReader.defaultGalore();
            case Full -> FullSettings.INSTANCE;
        };
    }
}
