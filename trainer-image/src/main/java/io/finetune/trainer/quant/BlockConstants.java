package io.finetune.trainer.quant;

/**
 * The per-block scale (absmax) of a 4-bit tensor, as stored: plain fp32, or double-quantized (QLoRA §3, "Double
 * Quantization"; bitsandbytes {@code quantize_4bit(compress_statistics=True)}): the mean is subtracted and the centred
 * constants are quantized blockwise again, 256 per block, to the 8-bit {@link DynamicMap}, each second-level block with its
 * own fp32 absmax.
 */
public sealed interface BlockConstants {
    /** Second-level block size of double quantization (bitsandbytes: 256). */
    int SECOND_BLOCK = 256;

    /** The scale of 4-bit block {@code block}, as dequantization uses it. */
    float absmax(int block);

    /** How many 4-bit blocks these constants scale. */
    int blocks();

    /** Bytes held: 4 per fp32 value, 1 per 8-bit code. */
    long bytes();

    /** One fp32 absmax per block. */
    record Plain(float[] absmax) implements BlockConstants {
        @Override
        public float absmax(int block) {
            return absmax[block];
        }

        @Override
        public int blocks() {
            return absmax.length;
        }

        @Override
        public long bytes() {
            return 4L * absmax.length;
        }
    }

    /**
     * {@code absmax(b) = DynamicMap[codes[b]] * scales[b / 256] + offset} in float32 (bitsandbytes gemm_4bit:
     * {@code dequantize_blockwise(absmax_8bit, absmax, code, 256) + offset}).
     *
     * @param codes  one 8-bit code per 4-bit block
     * @param scales one fp32 absmax per 256 codes (the last group may be partial)
     * @param offset the mean of the original constants
     */
    record DoubleQuantized(byte[] codes, float[] scales, float offset) implements BlockConstants {
        @Override
        public float absmax(int block) {
            return DynamicMap.value(codes[block] & 0xFF) * scales[block / SECOND_BLOCK] + offset;
        }

        @Override
        public int blocks() {
            return codes.length;
        }

        @Override
        public long bytes() {
            return codes.length + 4L * scales.length + 4;
        }

        /**
         * Quantizes {@code absmax} as {@code compress_statistics} does: offset = mean (summed in double, rounded to float32),
         * then blockwise 8-bit of {@code absmax - offset} with block 256 ({@link Blockwise#quantize8}).
         */
        static DoubleQuantized of(float[] absmax) {
            double sum = 0;
            for (float a : absmax) {
                sum += a;
            }
            float offset = (float) (sum / absmax.length);
            float[] centred = new float[absmax.length];
            for (int i = 0; i < absmax.length; i++) {
                centred[i] = absmax[i] - offset;
            }
            float[] scales = Blockwise.absmax(centred, SECOND_BLOCK);
            byte[] codes = new byte[absmax.length];
            for (int i = 0; i < centred.length; i++) {
                codes[i] = (byte) DynamicMap.nearest(Blockwise.scaled(centred[i], scales[i / SECOND_BLOCK]));
            }
            return new DoubleQuantized(codes, scales, offset);
        }
    }
}
