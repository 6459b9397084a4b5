/**
 * The fine-tuning method SPI: {@link io.finetune.trainer.method.TrainingMethod} (attach, parameter groups, optimizer, memory
 * estimate, output), the factory {@link io.finetune.trainer.method.TrainingMethods} (the one map from
 * {@code spec.method.type} to a method package), and the values the methods share: {@link
 * io.finetune.trainer.method.MemoryEstimate} with its {@link io.finetune.trainer.method.PlanInputs}, and {@link
 * io.finetune.trainer.method.MethodOutput} (artifact format and who serves it) for an {@link
 * io.finetune.trainer.method.OutputTarget}. Each method lives in its own sub-package with all its facts, as PEFT keeps one
 * folder per tuner: {@code lora} (LoRA, DoRA, LoRA+), {@code galore}, {@code full}.
 */
package io.finetune.trainer.method;
