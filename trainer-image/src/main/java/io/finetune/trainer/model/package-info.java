/**
 * The LLaMA-family decoder (llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3_text:
 * {@link io.finetune.trainer.model.ModelFamily}; sliding windows per layer; Gemma's block in its own layer class) with Hugging Face weight names and a shape comment per tensor: config,
 * weights, forward, loss, generation, and the {@link io.finetune.trainer.model.LinearAdapter} hook methods wrap linears with.
 * {@link io.finetune.trainer.model.ModelConfig} is the one reader of config.json (load, plan, preflight, targets).
 */
package io.finetune.trainer.model;
