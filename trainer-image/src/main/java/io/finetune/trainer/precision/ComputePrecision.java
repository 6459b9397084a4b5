package io.finetune.trainer.precision;

import io.finetune.api.v1alpha1.Precision;

/**
 * The precision a run computes in, resolved from {@code spec.training.precision} against the device
 * ({@link PrecisionResolver}). FP32 is plain fp32 everywhere; BF16 and FP16 are mixed precision as PyTorch autocast + PEFT
 * give it: frozen 2-D base weights held in the 16-bit type, matmuls in it, norms/softmax/loss and every trainable parameter,
 * gradient and optimizer state in fp32 ({@link Autocast}).
 *
 * @param torchCode the c10::ScalarType code TorchScript uses for the 16-bit type (torch.float16 = 5, torch.bfloat16 = 15);
 *                  fp32 is 6
 * @param bytes     bytes of one value of the compute type
 */
public enum ComputePrecision {
    FP32(6, 4),
    BF16(15, 2),
    FP16(5, 2);

    private final int torchCode;
    private final int bytes;

    ComputePrecision(int torchCode, int bytes) {
        this.torchCode = torchCode;
        this.bytes = bytes;
    }

    public int torchCode() {
        return torchCode;
    }

    public int bytes() {
        return bytes;
    }

    /** The spec's name for this precision (fp32, bf16, fp16): what training_summary.json and status.execution record. */
    public Precision spec() {
        return switch (this) {
            case FP32 -> Precision.FP32;
            case BF16 -> Precision.BF16;
            case FP16 -> Precision.FP16;
        };
    }

    public boolean mixed() {
        return this != FP32;
    }

    /** fp16's 5-bit exponent overflows where bf16's does not: it needs dynamic loss scaling ({@link LossScaler}). */
    public boolean needsLossScaling() {
        return this == FP16;
    }
}
