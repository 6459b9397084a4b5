package io.finetune.trainer.quant;

import ai.djl.ndarray.NDManager;

/**
 * How a model's frozen linear weights are stored in 4 bits: the data type and whether the block constants are
 * double-quantized. The model calls {@link #quantize} once per weight as it loads, so only one weight is ever held in
 * fp32 (on the host) at a time.
 */
public record Quantizer(QuantType type, boolean doubleQuant) {
    public Quantizer {
        if (type == null) {
            throw new IllegalArgumentException("a quantizer needs a type (nf4 or fp4)");
        }
    }

    /** The 4-bit form of {@code data} (row-major, {@code shape}) in {@code manager}; {@code name} names it in errors. */
    public QuantizedWeight quantize(String name, float[] data, long[] shape, NDManager manager) {
        return QuantizedWeight.quantize(name, data, shape, type, doubleQuant, manager);
    }
}
