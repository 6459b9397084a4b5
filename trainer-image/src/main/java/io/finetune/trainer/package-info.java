/**
 * The trainer's entry point: {@link io.finetune.trainer.Main} sets the process up ({@code process/}) and hands the command line
 * to {@code cli/}. The package map and the flow of one run are in trainer-image/README.md.
 */
package io.finetune.trainer;
