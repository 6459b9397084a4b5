/**
 * Linear algebra DJL does not expose: SVD/QR ({@link io.finetune.trainer.linalg.LinearAlgebra}) run as TorchScript modules
 * written from Java ({@link io.finetune.trainer.linalg.TorchScriptArchive}), and Gaussian draws from a seeded generator.
 * Depends only on {@code arrays/}.
 */
package io.finetune.trainer.linalg;
