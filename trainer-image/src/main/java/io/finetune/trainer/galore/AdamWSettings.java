package io.finetune.trainer.galore;

/**
 * AdamW constants shared by the GaLore update. Defaults follow galore_torch/adamw.py except eps, which the trainer passes.
 *
 * @param weightDecay decoupled weight decay (Loshchilov and Hutter), applied as W *= 1 - lr·wd after the Adam update
 */
public record AdamWSettings(float beta1, float beta2, float eps, float weightDecay) {
    public static AdamWSettings defaults() {
        return new AdamWSettings(0.9f, 0.999f, 1e-8f, 0.0f);
    }
}
