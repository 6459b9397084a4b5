package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.MethodType;

/**
 * Estimated training memory of one method, in bytes, plus the parameter counts it follows from. Each method computes its
 * own ({@link TrainingMethod#estimateMemory}); the byte rules they share are here.
 *
 * <p>Bytes follow what the trainer holds under {@code training.precision} (mixed precision as autocast + PEFT, see
 * {@code LlamaModel.usePrecision}): every trainable parameter, its gradient and its Adam moments are fp32 (4 + 4 + 8 bytes:
 * the trainable fp32 weights are the master copy); frozen 2-D weights (linears and the embedding) are held in
 * {@link PlanInputs#valueBytes()} (2 in bf16/fp16, 4 in fp32); frozen norm weights and biases stay fp32. Activations are
 * {@link ActivationMemory}'s count of what one step allocates on top of those (an upper bound of the measured working set).
 */
public record MemoryEstimate(MethodType method, long trainableParams, long totalParams, long weightBytes, long gradientBytes,
                             long optimizerStateBytes, long activationBytes) {
    /** Bytes of one Adam moment value (two per trainable value). */
    public static final int ADAM_STATE_BYTES = 4;
    public static final int FP32_BYTES = 4;

    /** Weights + gradients + optimizer state + activations (the runtime reserve is added by the plan). */
    public long totalBytes() {
        return weightBytes + gradientBytes + optimizerStateBytes + activationBytes;
    }
}
