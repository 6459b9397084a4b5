package io.finetune.trainer.plan;

import io.finetune.api.v1alpha1.MethodType;

/** Estimated training memory of one method, in bytes, plus the parameter counts it follows from. */
public record MemoryEstimate(MethodType method, long trainableParams, long totalParams, long weightBytes, long gradientBytes,
                             long optimizerStateBytes, long activationBytes) {
    /** Weights + gradients + optimizer state + activations (the runtime reserve is added by {@link MemoryPlan}). */
    public long totalBytes() {
        return weightBytes + gradientBytes + optimizerStateBytes + activationBytes;
    }
}
