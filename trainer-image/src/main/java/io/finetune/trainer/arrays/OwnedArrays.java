package io.finetune.trainer.arrays;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;

/**
 * NDArrays from Java data whose memory libtorch owns.
 *
 * <p>DJL's PyTorch engine wraps a CPU array created from Java data around a direct ByteBuffer ({@code torch::from_blob},
 * no copy) and keeps that buffer alive only through the Java NDArray object. Any libtorch tensor that still shares the
 * storage after that object is closed and collected (an autograd node, a view, a stolen gradient) then reads freed memory:
 * measured here as step losses that differ between identical runs and NaN losses, only when the JVM collects garbage
 * during training (the pod mode's HTTP client makes it do so). A clone owned by libtorch removes the dependency.
 *
 * <p>The same holds for DJL's arithmetic with a Java number ({@code x.mul(0.5)}): it wraps the number in such a borrowed
 * scalar array, runs the op and closes the scalar at once, but autograd keeps the scalar for the backward pass (MulBackward
 * and DivBackward save the other operand). After a garbage collection the backward pass then multiplies by whatever the
 * freed memory holds. This was the cause of the pod-mode nondeterminism (step-3 losses 4.3045 vs 4.3612/4.4593, NaN at
 * step 3-4): code on the autograd path uses {@link #times}, {@link #dividedBy}, {@link #plus} and {@link #minus} instead
 * ({@code ScalarArithmeticGuardTest} keeps it that way).
 */
public final class OwnedArrays {
    private OwnedArrays() {
    }

    public static NDArray create(NDManager manager, float[] data, Shape shape) {
        return own(manager.create(data, shape));
    }

    public static NDArray create(NDManager manager, int[] data, Shape shape) {
        return own(manager.create(data, shape));
    }

    public static NDArray create(NDManager manager, long[] data, Shape shape) {
        return own(manager.create(data, shape));
    }

    /**
     * Writes {@code values} (row-major) into {@code target}'s own storage: libtorch copies them into the existing tensor,
     * which keeps its allocation, 64-byte alignment, layout and autograd identity. Use it wherever saved values go back
     * into a live array (checkpoint resume, kept best weights, merged adapters).
     *
     * <p>DJL's {@code NDArray.set(float[])} does not copy: on the CPU it swaps the tensor's storage for the direct
     * ByteBuffer it filled ({@code set_} over that buffer), so the array then lives in Java memory with malloc's 16-byte
     * alignment instead of libtorch's 64 (measured here: offsets 16, 32, 48, 0 mod 64), and carries the borrowed-buffer
     * hazard described above. MKL chooses kernel paths by operand alignment even with {@code MKL_CBWR} set, so a run
     * resumed through {@code set} multiplied restored weights and moments in a different float order than the uninterrupted
     * run (on AVX-512 Intel CPUs GaloreMethodTest's resumed loss was 1 ulp off).
     */
    public static void copyInto(NDArray target, float[] values) {
        Shape shape = target.getShape();
        if (values.length != shape.size()) {
            throw new IllegalArgumentException("cannot write " + values.length + " values into an array of shape " + shape);
        }
        if (shape.dimension() == 0) {
            throw new IllegalArgumentException("copyInto needs an array of at least one dimension");
        }
        long[] start = new long[shape.dimension()];
        long[] step = new long[shape.dimension()];
        Arrays.fill(step, 1);
        try (NDArray source = target.getManager().create(values, shape)) {
            // index_put_ over the full range: a copy into target's storage; source (and its Java buffer) dies here.
            JniUtils.indexSet((PtNDArray) target, (PtNDArray) source, start, shape.getShape(), step);
        }
    }

    /**
     * Copies {@code source} (same shape, any device) into {@code target}'s own storage, on target's device: as
     * {@link #copyInto(NDArray, float[])} without a trip through Java memory.
     */
    public static void copyInto(NDArray target, NDArray source) {
        Shape shape = target.getShape();
        if (!shape.equals(source.getShape())) {
            throw new IllegalArgumentException("cannot copy an array of shape " + source.getShape() + " into one of " + shape);
        }
        if (shape.dimension() == 0) {
            throw new IllegalArgumentException("copyInto needs an array of at least one dimension");
        }
        long[] start = new long[shape.dimension()];
        long[] step = new long[shape.dimension()];
        Arrays.fill(step, 1);
        JniUtils.indexSet((PtNDArray) target, (PtNDArray) source, start, shape.getShape(), step);
    }

    /** {@code x * s} with a libtorch-owned scalar (safe for autograd). */
    public static NDArray times(NDArray x, double s) {
        return x.mul(scalar(x.getManager(), s));
    }

    /** {@code x / s} with a libtorch-owned scalar (safe for autograd). */
    public static NDArray dividedBy(NDArray x, double s) {
        return x.div(scalar(x.getManager(), s));
    }

    /** {@code x + s} with a libtorch-owned scalar. */
    public static NDArray plus(NDArray x, double s) {
        return x.add(scalar(x.getManager(), s));
    }

    /** {@code x - s} with a libtorch-owned scalar. */
    public static NDArray minus(NDArray x, double s) {
        return x.sub(scalar(x.getManager(), s));
    }

    /** A 0-dim float32 array owned by libtorch ({@code torch::full}, no Java buffer), in {@code manager} (closed with it). */
    public static NDArray scalar(NDManager manager, double s) {
        return manager.full(new Shape(), (float) s);
    }

    private static NDArray own(NDArray borrowed) {
        NDArray owned = borrowed.duplicate();
        borrowed.close();
        return owned;
    }
}
