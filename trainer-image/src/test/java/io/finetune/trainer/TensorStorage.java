package io.finetune.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Where a tensor's values live, for tests that pin the storage a resumed run computes on: the byte offset of its data
 * from a 64-byte boundary (libtorch's CPU allocator aligns to 64; a Java direct buffer only to malloc's 16) and whether it
 * is row-major contiguous. DJL has no public stride query, so {@link #isContiguous} calls its JNI binding reflectively.
 */
public final class TensorStorage {
    private TensorStorage() {
    }

    /** The data address modulo 64 (0 for libtorch's own allocations). The array must be contiguous. */
    public static int offsetFrom64ByteBoundary(NDArray array) {
        if (!isContiguous(array)) {
            throw new IllegalArgumentException("not contiguous: toByteBuffer would copy instead of exposing the storage");
        }
        return ((PtNDArray) array).toByteBuffer(true).alignmentOffset(0, 64);
    }

    /** The data address modulo 1 GiB: equal before and after an operation when the array kept its storage. */
    public static int addressModulo1GiB(NDArray array) {
        if (!isContiguous(array)) {
            throw new IllegalArgumentException("not contiguous: toByteBuffer would copy instead of exposing the storage");
        }
        return ((PtNDArray) array).toByteBuffer(true).alignmentOffset(0, 1 << 30);
    }

    /** libtorch's {@code Tensor::is_contiguous()} (row-major, no gaps). */
    public static boolean isContiguous(NDArray array) {
        try {
            Class<?> lib = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field instance = lib.getDeclaredField("LIB");
            instance.setAccessible(true);
            Method contiguous = lib.getDeclaredMethod("torchIsContiguous", long.class);
            contiguous.setAccessible(true);
            return (boolean) contiguous.invoke(instance.get(null), (Long) ((PtNDArray) array).getHandle());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DJL's PyTorchLibrary.torchIsContiguous is not reachable: " + e, e);
        }
    }
}
