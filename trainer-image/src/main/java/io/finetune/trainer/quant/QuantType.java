package io.finetune.trainer.quant;

/**
 * The two 4-bit data types of QLoRA (Dettmers et al. 2023, arXiv 2305.14314), as bitsandbytes defines them
 * ({@code bitsandbytes/functional.py} {@code get_4bit_type}; the same tables sit in {@code backends/utils.py} and, for NF4,
 * in the paper's Appendix E). Code {@code i} (0..15) dequantizes to {@code level(i) * absmax} of its block.
 *
 * <ul>
 *   <li>NF4: NormalFloat, 16 quantiles of N(0, 1) normalised to [-1, 1] with an exact zero (7 negative, 8 positive levels).
 *   <li>FP4: a sign bit, 2 exponent bits and 1 mantissa bit (bitsandbytes' E2M1 variant: 0, 0.0625, 8, 12, 4, 6, 2, 3 for
 *       codes 0..7, the negatives for 8..15), divided by its absolute maximum 12 in float32 as {@code get_4bit_type} does.
 * </ul>
 */
public enum QuantType {
    NF4(new float[] {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f}),
    FP4(normalised(new float[] {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f, -0f, -0.0625f, -8f, -12f, -4f, -6f, -2f, -3f}));

    private final float[] levels;

    QuantType(float[] levels) {
        this.levels = levels;
    }

    /** The 16 levels in code order (a copy). */
    public float[] levels() {
        return levels.clone();
    }

    /** The level of code {@code code} (0..15). */
    public float level(int code) {
        return levels[code];
    }

    /**
     * The code nearest to {@code scaled} (a weight divided by its block's absmax, in [-1, 1]): the first index of the smallest
     * float32 {@code |scaled - level|}, as the reference backend of bitsandbytes computes it
     * ({@code backends/default/ops.py} quantize_4bit: {@code argmin(abs(scaled - code))}, argmin taking the first minimum).
     */
    public int nearest(float scaled) {
        int best = 0;
        float bestDiff = Math.abs(scaled - levels[0]);
        for (int i = 1; i < levels.length; i++) {
            float d = Math.abs(scaled - levels[i]);
            if (d < bestDiff) {
                bestDiff = d;
                best = i;
            }
        }
        return best;
    }

    private static float[] normalised(float[] data) {
        float max = 0;
        for (float v : data) {
            max = Math.max(max, Math.abs(v));
        }
        float[] out = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = data[i] / max;
        }
        return out;
    }
}
