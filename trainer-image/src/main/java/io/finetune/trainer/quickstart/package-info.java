/**
 * The quick starts the README's first command runs: {@link io.finetune.trainer.quickstart.RealQuickstart} (stories15M learns
 * WordNet definitions, {@link io.finetune.trainer.quickstart.WordnetTask}) and
 * {@link io.finetune.trainer.quickstart.TinyQuickstart} (word reversal on a random model,
 * {@link io.finetune.trainer.quickstart.QuickstartTask}); each trains through {@code run/TrainingRun} exactly as {@code run}
 * would. {@code cli/Quickstart} is the command that picks one.
 */
package io.finetune.trainer.quickstart;
