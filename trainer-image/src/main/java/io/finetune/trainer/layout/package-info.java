/**
 * The output layout, owned in one place ({@link io.finetune.trainer.layout.RunLayout}): every directory and file name a run
 * writes under its output (checkpoints/step-N and their files, run_identity.json, rejected/, merged/, the best-eval weights,
 * training_summary.json, manifest.json), as local paths and as '/'-separated keys under a remote destination. Depends on no
 * other trainer package, so storage, train, method and run can all use it without a cycle.
 */
package io.finetune.trainer.layout;
