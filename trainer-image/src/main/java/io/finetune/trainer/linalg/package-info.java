/**
 * NDArray helpers below the model: arrays from Java data that libtorch owns ({@link io.finetune.trainer.arrays.OwnedArrays},
 * safe under autograd), Gaussian draws from a seeded generator, and SVD/QR ({@link
 * io.finetune.trainer.linalg.LinearAlgebra}) run as TorchScript modules written from Java ({@link
 * io.finetune.trainer.linalg.TorchScriptArchive}), since DJL exposes neither. Depends on no other trainer package.
 */
package io.finetune.trainer.linalg;
