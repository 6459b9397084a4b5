/**
 * Numeric precision of a run (spec.training.precision): which compute type the device supports ({@code PrecisionResolver}),
 * the autocast scope that runs matmuls in bf16/fp16 while the residual stream and the loss stay fp32 ({@code Autocast},
 * {@code HalfOps}), and dynamic loss scaling for fp16 ({@code LossScaler}, as torch.cuda.amp.GradScaler).
 */
package io.finetune.trainer.precision;
