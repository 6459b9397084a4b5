/**
 * llama2.c checkpoints to Hugging Face LLaMA layout: the legacy model.bin ({@code Llama2cCheckpoint}: q/k rows permuted per
 * head from interleaved RoPE to rotate_half), tokenizer.bin to a byte-fallback BPE tokenizer.json ({@code Llama2cTokenizer},
 * merges derived from piece scores as HF's SentencePiece converter does), and the sha256-verified stories15M fetch
 * ({@code Stories15M}). The command is {@code cli/ImportLlama2cCommand}.
 */
package io.finetune.trainer.llama2c;
