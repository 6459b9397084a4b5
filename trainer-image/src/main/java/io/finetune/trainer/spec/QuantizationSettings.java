package io.finetune.trainer.spec;

import io.finetune.api.v1alpha1.ComputeDtype;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.quant.QuantType;
import io.finetune.trainer.quant.Quantizer;
import java.util.Objects;

/**
 * {@code spec.model.quantization}, resolved: the frozen linear weights of the decoder layers are held in 4 bits (QLoRA).
 * A run without it has {@code RunSpec.quantization()} empty.
 *
 * @param type         NF4 or FP4
 * @param doubleQuant  whether the block constants are quantized again to 8 bits
 * @param computeDtype the dtype of the matmul over the dequantized weights (auto: the run's precision)
 */
public record QuantizationSettings(QuantType type, boolean doubleQuant, ComputeDtype computeDtype) {
    public QuantizationSettings {
        Objects.requireNonNull(type, "spec.model.quantization.type");
        Objects.requireNonNull(computeDtype, "spec.model.quantization.computeDtype");
    }

    /** The model's quantizer. */
    public Quantizer quantizer() {
        return new Quantizer(type, doubleQuant);
    }

    /**
     * The precision the run asks for: {@code training} as set, or, where that is auto, the compute dtype when one is named
     * (the validator refuses the two disagreeing).
     */
    public Precision precision(Precision training) {
        if (training != Precision.AUTO) {
            return training;
        }
        return switch (computeDtype) {
            case AUTO -> Precision.AUTO;
            case BF16 -> Precision.BF16;
            case FP32 -> Precision.FP32;
        };
    }

    /** The stored bytes of {@code params} frozen linear values in 64-value blocks (codes + constants). */
    public long bytes(long params) {
        long blocks = (params + 63) / 64;
        long constants = doubleQuant ? blocks + 4 * ((blocks + 255) / 256) + 4 : 4 * blocks;
        return (params + 1) / 2 + constants;
    }
}
