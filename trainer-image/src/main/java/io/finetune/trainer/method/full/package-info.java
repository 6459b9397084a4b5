/**
 * Full fine-tuning: every base parameter trains with AdamW; the output is a complete Hugging Face model directory.
 */
package io.finetune.trainer.method.full;
