package io.finetune.trainer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.llama2c.RealModel;
import io.finetune.trainer.model.ModelConfig;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our NF4/FP4 quantizer against the test-side {@link Nf4Reference}: the same codes, block constants and dequantized values,
 * bit for bit, on the host and from the device dequantization, on random and on real (stories15M) weights.
 */
class QuantizedTensorTest {

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        w[n / 3] = 0.31f; // an outlier, as real weights have
        return w;
    }

    private static float[] levels(QuantType t) {
        return t == QuantType.NF4 ? Nf4Reference.NF4 : Nf4Reference.fp4();
    }

    @Test
    void tablesAreTheDefinitions() {
        assertArrayEquals(Nf4Reference.NF4, QuantType.NF4.levels());
        assertArrayEquals(Nf4Reference.fp4(), QuantType.FP4.levels());
        assertArrayEquals(Nf4Reference.dynamicMap(), DynamicMap.signed());
        assertEquals(256, DynamicMap.signed().length);
    }

    /** Shapes: whole blocks; a partial last block and an odd count; more than 256 blocks with a partial second-level group. */
    @ParameterizedTest
    @CsvSource({"NF4,96,80,false", "NF4,7,9,false", "FP4,7,9,true", "NF4,160,130,true", "FP4,160,130,false",
                "FP4,96,80,true"})
    void matchesTheReferenceBitForBit(QuantType type, int out, int in, boolean dq) {
        float[] w = gaussian(out * in, 11L * out + in);
        assertSame(type, w, new long[] {out, in}, dq);
    }

    @Test
    void realStories15mWeightsMatchTheReference() throws Exception {
        Path dir = RealModel.hf();
        ModelConfig config = ModelConfig.read(dir);
        ModelWeights weights = ModelWeights.open(dir);
        for (ModelConfig.LinearShape s : config.layerLinears(0)) {
            FloatTensor t = weights.read(s.name() + ".weight", s.out(), s.in());
            assertSame(QuantType.NF4, t.data(), t.shape(), true);
            assertSame(QuantType.FP4, t.data(), t.shape(), false);
        }
    }

    private static void assertSame(QuantType type, float[] w, long[] shape, boolean dq) {
        Nf4Reference.Result ref = Nf4Reference.quantize(w, levels(type), dq);
        QuantizedTensor q = QuantizedTensor.quantize("w", w, shape, type, dq);
        assertArrayEquals(ref.packed(), q.packed(), "packed codes");
        for (int i = 0; i < w.length; i++) {
            assertEquals(ref.codes()[i], q.code(i));
        }
        if (dq) {
            BlockConstants.DoubleQuantized c = (BlockConstants.DoubleQuantized) q.constants();
            assertArrayEquals(ref.absmaxCodes(), c.codes(), "8-bit constants");
            assertArrayEquals(ref.absmaxScales(), c.scales(), "second-level absmax");
            assertEquals(Float.floatToIntBits(ref.offset()), Float.floatToIntBits(c.offset()), "offset");
        } else {
            assertArrayEquals(ref.absmax(), ((BlockConstants.Plain) q.constants()).absmax(), "absmax");
        }
        float[] host = q.dequantize();
        assertBits(ref.dequantized(), host);
        try (NDManager m = NDManager.newBaseManager(); QuantizedWeight dev = QuantizedWeight.of(q, m);
             NDManager sub = m.newSubManager()) {
            NDArray deq = dev.dequantize(sub);
            assertEquals(new ai.djl.ndarray.types.Shape(shape), deq.getShape());
            assertBits(ref.dequantized(), deq.toFloatArray());
        }
        // Round-trip error per block: the reference's, and within half the widest gap between levels times the block's
        // scale (plus, with double quantization, the scale's own error).
        float halfGap = maxHalfGap(levels(type));
        for (int b = 0; b < ref.absmax().length; b++) {
            float refErr = 0;
            float ourErr = 0;
            for (int i = b * 64; i < Math.min(w.length, (b + 1) * 64); i++) {
                refErr = Math.max(refErr, Math.abs(w[i] - ref.dequantized()[i]));
                ourErr = Math.max(ourErr, Math.abs(w[i] - host[i]));
            }
            assertEquals(refErr, ourErr, "block " + b);
            float scale = q.constants().absmax(b);
            float bound = halfGap * scale + Math.abs(scale - ref.absmax()[b]) * 1.0001f + 1e-7f;
            assertTrue(ourErr <= bound, "block " + b + " error " + ourErr + " > " + bound);
        }
    }

    private static float maxHalfGap(float[] levels) {
        float[] s = levels.clone();
        java.util.Arrays.sort(s);
        float g = 0;
        for (int i = 1; i < s.length; i++) {
            g = Math.max(g, (s[i] - s[i - 1]) / 2);
        }
        return g * 1.0001f;
    }

    private static void assertBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError("value " + i + ": expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    /** Frozen-weight bytes per parameter: 0.5 + 4/64 without double quantization, about 0.516 with it. */
    @Test
    void bytesPerParameter() {
        float[] w = gaussian(288 * 768, 5);
        QuantizedTensor plain = QuantizedTensor.quantize("w", w, new long[] {768, 288}, QuantType.NF4, false);
        QuantizedTensor dq = QuantizedTensor.quantize("w", w, new long[] {768, 288}, QuantType.NF4, true);
        assertEquals(0.5 + 4.0 / 64, (double) plain.bytes() / w.length, 1e-12);
        double perParam = (double) dq.bytes() / w.length;
        System.out.printf("frozen-weight bytes/param: nf4 %.4f, nf4+double-quant %.4f%n",
                (double) plain.bytes() / w.length, perParam);
        assertTrue(perParam > 0.515 && perParam < 0.517, "bytes/param " + perParam);
    }

    @Test
    void nonFiniteWeightsAreRefusedByName() {
        float[] w = gaussian(128, 1);
        w[70] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuantizedTensor.quantize("model.layers.0.mlp.up_proj.weight", w, new long[] {2, 64}, QuantType.NF4, true));
        assertTrue(e.getMessage().startsWith("model.layers.0.mlp.up_proj.weight: value 70 is NaN"), e.getMessage());
    }
}
