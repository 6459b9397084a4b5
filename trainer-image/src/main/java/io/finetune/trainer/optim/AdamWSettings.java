package io.finetune.trainer.optim;

/**
 * AdamW constants as one value, for updates that run their own Adam step (GaLore's projected update); the betas and eps
 * are {@link AdamW}'s, so both optimizers of a GaLore run use the same ones. (galore_torch/adamw.py has the same defaults
 * except eps, which the trainer passes.)
 *
 * @param weightDecay decoupled weight decay (Loshchilov and Hutter), applied as W *= 1 - lr·wd after the Adam update
 */
public record AdamWSettings(float beta1, float beta2, float eps, float weightDecay) {
    /** {@link AdamW}'s betas and eps, no weight decay. */
    public static AdamWSettings defaults() {
        return withWeightDecay(0.0);
    }

    /** {@link AdamW}'s betas and eps with a parameter group's weight decay. */
    public static AdamWSettings withWeightDecay(double weightDecay) {
        return new AdamWSettings((float) AdamW.BETA1, (float) AdamW.BETA2, (float) AdamW.EPS, (float) weightDecay);
    }
}
