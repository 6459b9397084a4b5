/**
 * The training loop and what it keeps: {@link io.finetune.trainer.train.Trainer} (nanoGPT-style: schedule, accumulation,
 * clipping, optimizer step, checkpoints, resume), checkpoints and best weights, the evaluation gate, SIGTERM handling, the
 * measured memory of a run ({@link io.finetune.trainer.train.MemoryAccounting}) and the training summary. A run around it
 * (fetch, load, write, publish) is {@code run.TrainingRun}.
 */
package io.finetune.trainer.train;
