/**
 * One training run: {@link io.finetune.trainer.run.TrainingRun} (fetch -> load tokenizer, model, data -> attach method ->
 * train -> write output -> publish), used by the run, pod and quickstart commands, with what guards its output locations:
 * {@link io.finetune.trainer.run.OutputSafety} (no output inside an input), {@link io.finetune.trainer.run.OutputOwnership}
 * and {@link io.finetune.trainer.run.RunIdentity} (resume only this run's checkpoints, never overwrite another's files).
 */
package io.finetune.trainer.run;
