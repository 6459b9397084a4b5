package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import io.finetune.trainer.arrays.OwnedArrays;

/**
 * RMSNorm (Zhang and Sennrich 2019) over the last axis: x / sqrt(mean(x^2) + eps) times w (transformers LlamaRMSNorm), or
 * times (1 + w) with {@code unitOffset} (Gemma2RMSNorm, Gemma3RMSNorm: weights stored as offsets from one, applied in fp32).
 * The residual stream and every norm weight are fp32 here, so both compute in fp32.
 */
public record RmsNorm(Parameter weight, double eps, boolean unitOffset) {

    public RmsNorm(Parameter weight, double eps) {
        this(weight, eps, false);
    }

    /** x: (..., d) -> (..., d). */
    public NDArray forward(NDArray x) {
        NDArray variance = x.square().mean(new int[] {-1}, true); // (..., 1)
        // x * rsqrt(var + eps) as transformers: the (..., 1) power is cheap, and a multiply's backward is one pass over x
        // where a divide's takes three (DivBackward also forms -g x / s^2).
        NDArray inverseRms = OwnedArrays.plus(variance, eps).pow(OwnedArrays.scalar(x.getManager(), -0.5));
        NDArray w = unitOffset ? OwnedArrays.plus(weight.array(), 1) : weight.array();
        return x.mul(inverseRms).mul(w);
    }
}
