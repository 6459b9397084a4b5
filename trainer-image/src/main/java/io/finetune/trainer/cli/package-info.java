/**
 * The trainer's command line, on picocli: {@link io.finetune.trainer.cli.TrainerCli} is the top-level command and the one
 * place that turns failures into exit codes and a single {@code error:} line ({@link io.finetune.trainer.cli.ErrorReport});
 * each subcommand is one class here, which parses its options and calls into the package that does the work.
 *
 * <ul>
 *   <li>{@code run} ({@link io.finetune.trainer.cli.RunCommand}): trains a FineTuneJob on this machine; with
 *       {@code --nproc N}, as N data-parallel ranks that {@code Launch} starts ({@code distributed/Launcher}).</li>
 *   <li>{@code pod} ({@link io.finetune.trainer.cli.PodCommand}): the operator's training pod ({@code pod/}); one rank per
 *       process when the pod's environment asks for several.</li>
 *   <li>{@code preflight} ({@link io.finetune.trainer.cli.PreflightCommand}): the CPU checks ({@code preflight/}).</li>
 *   <li>{@code plan} ({@link io.finetune.trainer.cli.PlanCommand}): the memory plan per method ({@code plan/}).</li>
 *   <li>{@code quickstart} ({@link io.finetune.trainer.cli.Quickstart}): picks a quick start of {@code quickstart/}.</li>
 *   <li>{@code init-model} ({@link io.finetune.trainer.cli.InitModel}): a random LLaMA in Hugging Face layout.</li>
 *   <li>{@code import-llama2c} ({@link io.finetune.trainer.cli.ImportLlama2cCommand}): {@code llama2c/}'s converter.</li>
 *   <li>{@code generate} ({@link io.finetune.trainer.cli.Generate}): continues a prompt, an adapter merged first.</li>
 * </ul>
 *
 * <p>Nothing outside this package depends on it; process set-up before any command runs is {@code process/}.
 */
package io.finetune.trainer.cli;
