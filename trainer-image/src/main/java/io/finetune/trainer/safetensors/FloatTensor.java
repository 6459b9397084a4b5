package io.finetune.trainer.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.finetune.trainer.precision.HalfOps;
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

    /** The values of an array as fp32 on the host (a 16-bit array is widened in libtorch first). */
    public static FloatTensor of(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return new FloatTensor(a.getShape().getShape(), a.toFloatArray());
        }
        try (NDArray wide = HalfOps.toFloat(a)) {
            return new FloatTensor(a.getShape().getShape(), wide.toFloatArray());
        }
    }
}
