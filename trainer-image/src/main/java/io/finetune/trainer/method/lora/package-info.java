/**
 * LoRA and its variants (PEFT tuners/lora): {@link io.finetune.trainer.method.lora.LoraMethod} puts a {@link
 * io.finetune.trainer.method.lora.LoraAdapter} on every targeted linear; a {@link
 * io.finetune.trainer.method.lora.LoraVariant} says what DoRA (its {@link io.finetune.trainer.method.lora.DoraAdapter}
 * layer) and LoRA+ (its optimizer grouping) change. Also here: the adapter dropout, the PEFT adapter writer (and the
 * serving verdict read back from what it wrote), and {@link io.finetune.trainer.method.lora.AdapterMerge}, the one merge of
 * adapters into base weights (output.merge and {@code generate --adapter}).
 */
package io.finetune.trainer.method.lora;
