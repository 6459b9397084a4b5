package io.finetune.trainer.quant;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A test-side 4-bit reference written from QLoRA's definition (Dettmers et al. 2023, §2 "Block-wise k-bit Quantization",
 * §3 "4-bit NormalFloat" and "Double Quantization", Appendix E for the NF4 values) and bitsandbytes' documented format,
 * without calling the trainer's quantizer: X_q = argmin_i |X · (1/absmax) - q_i| per block of 64, codes packed two per
 * byte (first of each pair in the high nibble), X' = q[X_q] · absmax; double quantization stores absmax - mean as 8-bit
 * dynamic-map codes per block of 256 with their own absmax.
 */
final class Nf4Reference {
    /** Appendix E of the QLoRA paper. */
    static final float[] NF4 = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f,
        0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
        0.7229568362236023f, 1.0f};

    /** FP4 from its bit fields (sign, 2 exponent bits, 1 mantissa bit, bias 3, as bitsandbytes' test_4bit_quant builds it) / 12. */
    static float[] fp4() {
        float[] code = new float[16];
        for (int idx = 0; idx < 16; idx++) {
            int sign = idx >> 3;
            int exp = (idx >> 1) & 3;
            int p1 = idx & 1;
            double v;
            if (exp == 0) {
                v = p1 == 0 ? 0 : 0.0625;
            } else {
                v = Math.pow(2, -exp + 3 + 1) * (p1 == 1 ? 1.5 : 1.0);
            }
            code[idx] = (float) (sign == 1 ? -v : v) / 12f;
        }
        return code;
    }

    /** The 8-bit signed dynamic map, built as a list of float32 midpoints of linspace(0.1, 1, 2^i + 1) x 10^(i-6). */
    static float[] dynamicMap() {
        List<Float> data = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            int n = (int) Math.pow(2, i) + 1;
            float start = 0.1f;
            float end = 1f;
            float step = (end - start) / (float) (n - 1);
            float[] b = new float[n];
            for (int j = 0; j < n; j++) {
                b[j] = j < n / 2 ? start + step * (float) j : end - step * (float) (n - 1 - j);
            }
            float p = (float) Double.parseDouble("1e" + (i - 6));
            for (int j = 0; j < n - 1; j++) {
                float mean = (b[j] + b[j + 1]) / 2f;
                data.add(p * mean);
                data.add(-p * mean);
            }
        }
        data.add(0f);
        data.add(1f);
        Collections.sort(data);
        float[] out = new float[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.get(i);
        }
        return out;
    }

    /** Result of quantizing one tensor. */
    record Result(int[] codes, byte[] packed, float[] absmax, byte[] absmaxCodes, float[] absmaxScales, float offset,
                  float[] dequantized) {
    }

    static int argmin(float x, float[] levels) {
        int best = -1;
        float bestDiff = Float.POSITIVE_INFINITY;
        for (int i = 0; i < levels.length; i++) {
            float d = Math.abs(x - levels[i]);
            if (best < 0 || d < bestDiff) { // strict: the first of equal distances wins
                best = i;
                bestDiff = d;
            }
        }
        return best;
    }

    static float[] blockMax(float[] x, int block) {
        float[] m = new float[(x.length + block - 1) / block];
        for (int b = 0; b < m.length; b++) {
            float max = 0;
            for (int i = b * block; i < Math.min(x.length, (b + 1) * block); i++) {
                max = Math.max(max, Math.abs(x[i]));
            }
            m[b] = max;
        }
        return m;
    }

    static float normalise(float x, float absmax) {
        return absmax == 0 ? 0f : Math.min(1f, Math.max(-1f, x * (1f / absmax)));
    }

    static Result quantize(float[] w, float[] levels, boolean doubleQuant) {
        float[] absmax = blockMax(w, 64);
        int[] codes = new int[w.length + (w.length % 2)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = i < w.length ? argmin(normalise(w[i], absmax[i / 64]), levels) : argmin(0f, levels);
        }
        byte[] packed = new byte[codes.length / 2];
        for (int i = 0; i < packed.length; i++) {
            packed[i] = (byte) ((codes[2 * i] << 4) | codes[2 * i + 1]);
        }
        float[] used = absmax;
        byte[] q8 = null;
        float[] scales2 = null;
        float offset = 0;
        if (doubleQuant) {
            double sum = 0;
            for (float a : absmax) {
                sum += a;
            }
            offset = (float) (sum / absmax.length);
            float[] centred = new float[absmax.length];
            for (int i = 0; i < centred.length; i++) {
                centred[i] = absmax[i] - offset;
            }
            scales2 = blockMax(centred, 256);
            float[] map = dynamicMap();
            q8 = new byte[centred.length];
            used = new float[centred.length];
            for (int i = 0; i < centred.length; i++) {
                int c = argmin(normalise(centred[i], scales2[i / 256]), map);
                q8[i] = (byte) c;
                used[i] = map[c] * scales2[i / 256] + offset;
            }
        }
        float[] deq = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            deq[i] = levels[codes[i]] * used[i / 64];
        }
        return new Result(codes, packed, absmax, q8, scales2, offset, deq);
    }
}
