package io.finetune.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * The host-memory route for a bucket NDArray ({@link ProcessGroup#allReduceSum(NDArray)} on Gloo): the array's floats
 * are copied into a direct buffer (from the GPU when it lives there), reduced by the engine, and copied back into the
 * array's own storage. That is what the trainer did for every engine before NCCL was bound; NCCL reduces the array in
 * device memory instead.
 */
final class HostBucket {
    private FloatBuffer staging;

    /** Checks what every engine needs of a bucket: float32, at most 2^31-1 elements. */
    static void require(NDArray bucket) {
        Objects.requireNonNull(bucket, "bucket");
        if (bucket.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("a gradient bucket must be float32, got " + bucket.getDataType());
        }
        if (bucket.size() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a gradient bucket holds at most 2^31-1 floats, got " + bucket.size());
        }
    }

    /** Sums {@code bucket} over the ranks of {@code group} through host memory, in place. */
    void allReduceSum(ProcessGroup group, NDArray bucket) {
        require(bucket);
        float[] values = bucket.toFloatArray();
        FloatBuffer buf = buffer(values.length);
        buf.put(values).flip();
        group.allReduceSum(buf);
        buf.get(0, values);
        copyInto(bucket, values);
    }

    /** Writes {@code values} into {@code target}'s own storage (index_put_ over the full range), on its device. */
    static void copyInto(NDArray target, float[] values) {
        Shape shape = target.getShape().dimension() == 0 ? new Shape(1) : target.getShape();
        long[] start = new long[shape.dimension()];
        long[] step = new long[shape.dimension()];
        java.util.Arrays.fill(step, 1);
        try (NDArray view = target.reshape(shape);
             NDArray source = target.getManager().create(values, shape);
             NDArray onDevice = source.toDevice(target.getDevice(), true)) {
            JniUtils.indexSet((PtNDArray) view, (PtNDArray) onDevice, start, shape.getShape(), step);
        }
    }

    private FloatBuffer buffer(int floats) {
        if (staging == null || staging.capacity() < floats) {
            staging = ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        staging.clear();
        staging.limit(floats);
        return staging;
    }
}
