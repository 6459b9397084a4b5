/**
 * 4-bit weights for QLoRA (Dettmers et al. 2023, arXiv 2305.14314) in bitsandbytes' format: blockwise NF4 or FP4 (block 64,
 * one absmax per block, two codes per byte), optionally with double-quantized block constants (8-bit dynamic map, block
 * 256, mean offset). {@link io.finetune.trainer.quant.QuantizedTensor} quantizes on the host, one tensor at a time;
 * {@link io.finetune.trainer.quant.QuantizedWeight} keeps the 4-bit form in libtorch memory and dequantizes one layer's weight
 * into a step's sub-manager. Depends only on {@code linalg}.
 */
package io.finetune.trainer.quant;
