package io.finetune.trainer.io;

import java.util.Arrays;

/** A host fp32 tensor in C order; the exchange type between safetensors files and NDArrays. */
public record FloatTensor(long[] shape, float[] data) {
    public FloatTensor {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }
}
