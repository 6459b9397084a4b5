package io.finetune.trainer.quant;

/**
 * The blockwise absmax arithmetic shared by the 4-bit codes and the 8-bit constants, as the reference backend of
 * bitsandbytes writes it ({@code backends/default/ops.py} quantize_4bit / quantize_blockwise): the tensor is cut, in
 * row-major order, into blocks of {@code block} values (the last may be partial), each block's absmax is its largest
 * |value|, and a value is scaled by multiplying with the float32 reciprocal of its absmax, then clamped to [-1, 1].
 */
final class Blockwise {
    private Blockwise() {
    }

    /** max |x| per block of {@code block} values. */
    static float[] absmax(float[] x, int block) {
        int blocks = (x.length + block - 1) / block;
        float[] out = new float[blocks];
        for (int i = 0; i < x.length; i++) {
            out[i / block] = Math.max(out[i / block], Math.abs(x[i]));
        }
        return out;
    }

    /**
     * {@code clamp(x * (1 / absmax), -1, 1)} in float32. An all-zero block (absmax 0) scales to 0 where bitsandbytes gets
     * 0 * inf = NaN; either way every value of that block dequantizes to zero.
     */
    static float scaled(float x, float absmax) {
        if (absmax == 0f) {
            return 0f;
        }
        float s = x * (1f / absmax);
        return Math.max(-1f, Math.min(1f, s));
    }
}
