package io.finetune.api.v1alpha1;

/** Whether the operator runs the CPU preflight before creating the GPU Job. */
public enum PreflightMode {
    /** Run it: the GPU Job is created only after data, targetModules, memory and storage checks passed. */
    Auto,
    /** Create the GPU Job directly (the trainer pod still checks memory and data itself). */
    Skip
}
