package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import io.finetune.trainer.arrays.OwnedArrays;

/** RMSNorm (Zhang and Sennrich 2019; transformers LlamaRMSNorm): w * x / sqrt(mean(x^2) + eps), over the last axis. */
public record RmsNorm(Parameter weight, double eps) {
    /** x: (..., d) -> (..., d). */
    public NDArray forward(NDArray x) {
        NDArray variance = x.square().mean(new int[] {-1}, true); // (..., 1)
        // x * rsqrt(var + eps) as transformers: the (..., 1) power is cheap, and a multiply's backward is one pass over x
        // where a divide's takes three (DivBackward also forms -g x / s^2).
        NDArray inverseRms = OwnedArrays.plus(variance, eps).pow(OwnedArrays.scalar(x.getManager(), -0.5));
        return x.mul(inverseRms).mul(weight.array());
    }
}
