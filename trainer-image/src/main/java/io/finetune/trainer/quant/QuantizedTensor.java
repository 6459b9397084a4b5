package io.finetune.trainer.quant;

import java.util.Arrays;

/**
 * A weight quantized to 4 bits on the host, in bitsandbytes' layout ({@code quantize_4bit}, blocksize 64): value {@code i}
 * of the flattened (row-major) tensor belongs to block {@code i / 64}; codes are packed two per byte, the even index in the
 * high nibble and the odd one in the low nibble ({@code packed = q[::2] << 4 | q[1::2]}), an odd count padded with the code
 * of 0. Dequantized, value {@code i} is {@code type.level(code_i) * constants.absmax(i / 64)} in float32.
 *
 * @param type      NF4 or FP4
 * @param shape     the original shape, e.g. (out, in)
 * @param packed    ceil(n / 2) bytes of codes
 * @param constants one scale per block, plain or double-quantized
 */
public record QuantizedTensor(QuantType type, long[] shape, byte[] packed, BlockConstants constants) {
    /** Values per 4-bit block (QLoRA and bitsandbytes' default for 4-bit weights). */
    public static final int BLOCK = 64;

    /**
     * Quantizes {@code data} (row-major, {@code shape}) blockwise; with {@code doubleQuant} the block constants are quantized
     * again ({@link BlockConstants.DoubleQuantized}). Non-finite values are refused, naming {@code name}: a NaN or infinity
     * would make its whole block's scale meaningless.
     */
    public static QuantizedTensor quantize(String name, float[] data, long[] shape, QuantType type, boolean doubleQuant) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(name + ": " + data.length + " values for shape " + Arrays.toString(shape));
        }
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new IllegalArgumentException(name + ": value " + i + " is " + data[i]
                        + "; 4-bit quantization needs finite weights");
            }
        }
        float[] absmax = Blockwise.absmax(data, BLOCK);
        byte[] packed = new byte[(data.length + 1) / 2];
        for (int i = 0; i < data.length; i += 2) {
            int hi = type.nearest(Blockwise.scaled(data[i], absmax[i / BLOCK]));
            int lo = i + 1 < data.length ? type.nearest(Blockwise.scaled(data[i + 1], absmax[(i + 1) / BLOCK]))
                    : type.nearest(0f);
            packed[i / 2] = (byte) (hi << 4 | lo);
        }
        BlockConstants constants = doubleQuant ? BlockConstants.DoubleQuantized.of(absmax) : new BlockConstants.Plain(absmax);
        return new QuantizedTensor(type, shape.clone(), packed, constants);
    }

    /** Number of values. */
    public long numel() {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    /** The 4-bit code of value {@code i}. */
    public int code(long i) {
        int b = packed[(int) (i / 2)] & 0xFF;
        return i % 2 == 0 ? b >>> 4 : b & 0xF;
    }

    /** The dequantized values, row-major, float32. */
    public float[] dequantize() {
        int n = (int) numel();
        float[] out = new float[n];
        int blocks = constants.blocks();
        float[] scale = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            scale[b] = constants.absmax(b);
        }
        for (int i = 0; i < n; i++) {
            out[i] = type.level(code(i)) * scale[i / BLOCK];
        }
        return out;
    }

    /** Bytes held: the packed codes plus the constants. */
    public long bytes() {
        return packed.length + constants.bytes();
    }
}
