/**
 * The CPU checks run before a GPU is held: the dataset parses and tokenizes with the training loader, targetModules match the
 * model, the memory plan fits the GPU, storage is reachable. {@code Preflight} computes the verdict; {@code PreflightPod} is
 * the operator's preflight pod (job from FINETUNE_CONFIG, verdict to the termination log as a PreflightResult,
 * docs/contracts.md F). The local command is {@code cli/PreflightCommand}.
 */
package io.finetune.trainer.preflight;
