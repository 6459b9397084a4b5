/**
 * Optimizers and the learning-rate schedule: {@link io.finetune.trainer.optim.AdamW} as torch.optim.AdamW (its betas and
 * eps are the one source, {@link io.finetune.trainer.optim.AdamWSettings} carries them to GaLore's update), parameter
 * groups (lr multiplier, weight decay), warmup + schedule.
 */
package io.finetune.trainer.optim;
