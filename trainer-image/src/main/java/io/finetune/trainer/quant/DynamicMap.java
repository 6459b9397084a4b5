package io.finetune.trainer.quant;

import java.util.Arrays;

/**
 * The signed 8-bit dynamic quantization map that double quantization stores the block constants in: bitsandbytes'
 * {@code create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)} ({@code bitsandbytes/functional.py}; Dettmers
 * 2015, "8-Bit Approximations for Parallelism in Deep Learning"). For exponent {@code i} = 0..6 it takes the 2^i midpoints of
 * {@code linspace(0.1, 1, 2^i + 1)} times 10^(i-6), both signs, then 0 and 1: 254 + 2 = 256 values, sorted ascending.
 *
 * <p>Arithmetic as torch does it in float32: linspace as {@code start + step*i} for the first half and
 * {@code end - step*(n-1-i)} for the second (ATen RangeFactoriesKernel), the midpoint {@code (a + b) / 2}, the power of ten
 * cast to float32 before the product. Checked once against PyTorch 1.13 running bitsandbytes' function: 44 of the 256 values
 * differ from it by one float32 ulp (its vectorised linspace adds the step to a running base, rounding twice); only this
 * trainer's own dequantization reads these codes, so what matters is that quantization and dequantization use one table.
 */
public final class DynamicMap {
    /** Values of one 8-bit code. */
    public static final int SIZE = 256;
    private static final double[] POWERS = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
    private static final float[] SIGNED = build();

    private DynamicMap() {
    }

    /** The 256 values in code order (a copy). */
    public static float[] signed() {
        return SIGNED.clone();
    }

    static float value(int code) {
        return SIGNED[code];
    }

    /**
     * The code nearest to {@code scaled} in [-1, 1]: the first index of the smallest float32 {@code |scaled - code|}, as the
     * reference backend's {@code quantize_blockwise} (argmin) computes it.
     */
    static int nearest(float scaled) {
        int best = 0;
        float bestDiff = Math.abs(scaled - SIGNED[0]);
        for (int i = 1; i < SIZE; i++) {
            float d = Math.abs(scaled - SIGNED[i]);
            if (d < bestDiff) {
                bestDiff = d;
                best = i;
            }
        }
        return best;
    }

    private static float[] build() {
        float[] data = new float[SIZE];
        int k = 0;
        for (int i = 0; i < POWERS.length; i++) {
            float[] b = linspace(0.1f, 1f, (1 << i) + 1);
            float scale = (float) POWERS[i];
            for (int j = 0; j + 1 < b.length; j++) {
                float mean = (b[j] + b[j + 1]) / 2.0f;
                data[k++] = scale * mean;
                data[k++] = -scale * mean;
            }
        }
        data[k++] = 0f;
        data[k++] = 1f;
        if (k != SIZE) {
            throw new IllegalStateException("dynamic map has " + k + " values, not " + SIZE);
        }
        Arrays.sort(data);
        return data;
    }

    private static float[] linspace(float start, float end, int steps) {
        float[] out = new float[steps];
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }
}
