package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/** RMSNorm (Zhang and Sennrich 2019; transformers LlamaRMSNorm): w * x / sqrt(mean(x^2) + eps), over the last axis. */
public record RmsNorm(Parameter weight, double eps) {
    /** x: (..., d) -> (..., d). */
    public NDArray forward(NDArray x) {
        NDArray variance = x.square().mean(new int[] {-1}, true); // (..., 1)
        return x.div(OwnedArrays.plus(variance, eps).sqrt()).mul(weight.array());
    }
}
