/**
 * Tensors on the host and in files: {@link io.finetune.trainer.safetensors.FloatTensor} (also the one copy of an NDArray to the host,
 * 16-bit arrays widened first), safetensors reading and writing, and model weight files.
 */
package io.finetune.trainer.safetensors;
