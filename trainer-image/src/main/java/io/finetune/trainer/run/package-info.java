/**
 * One training run: {@link io.finetune.trainer.run.TrainingRun} (fetch -> load tokenizer, model, data -> attach method ->
 * train -> write output -> publish), used by the run, pod and quickstart commands, with what guards its output locations:
 * {@link io.finetune.trainer.run.OutputSafety} (no output inside an input), {@link io.finetune.trainer.run.OutputOwnership}
 * and {@link io.finetune.trainer.run.RunIdentity} (resume only this run's checkpoints, never overwrite another's files),
 * and {@code OutputClaim} (checks both output locations and the destination's writability without marking them, so a run
 * that fails on a bad input leaves them as it found them).
 */
package io.finetune.trainer.run;
