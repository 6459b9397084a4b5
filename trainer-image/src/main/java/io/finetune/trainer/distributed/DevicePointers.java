package io.finetune.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * A tensor's own storage as a direct {@link ByteBuffer}, without a copy and on any device: DJL 0.36's JNI function
 * {@code PyTorchLibrary.torchDirectByteBuffer(handle)} wraps {@code tensor.data_ptr()} and {@code nbytes()} in
 * {@code NewDirectByteBuffer} (pytorch-native/.../PyTorchLibrary_tensor.cc; it refuses sparse, MKL-DNN and
 * non-contiguous tensors and tensors over 2 GiB). For a CUDA tensor the buffer's address is the device pointer, which is
 * what NCCL takes; the JVM must never read such a buffer, only hand it to native code. DJL's public
 * {@code NDArray.toByteBuffer} cannot be used: it first copies the tensor to the CPU. The function is package-private in
 * a class of DJL's, reached by reflection (legal: the trainer runs from the class path, where DJL's packages are open).
 */
final class DevicePointers {
    private static Method directByteBuffer;
    private static Object library;

    private DevicePointers() {
    }

    /**
     * The storage of {@code array} (contiguous, at most 2 GiB). Keep {@code array} reachable while the buffer is used.
     *
     * @throws IllegalArgumentException when the array is not a PyTorch-engine array or DJL refuses it
     */
    static ByteBuffer of(NDArray array) {
        if (!(array instanceof PtNDArray pt)) {
            throw new IllegalArgumentException("device collectives need a PyTorch-engine NDArray, got "
                    + array.getClass().getName());
        }
        try {
            return (ByteBuffer) method().invoke(library, pt.getHandle());
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("DJL refused the array's storage: " + e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DJL's PyTorchLibrary.torchDirectByteBuffer is not reachable (another DJL "
                    + "version than 0.36?): " + e, e);
        }
    }

    private static synchronized Method method() throws ReflectiveOperationException {
        if (directByteBuffer == null) {
            Class<?> cls = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field lib = cls.getDeclaredField("LIB");
            lib.setAccessible(true);
            Method m = cls.getDeclaredMethod("torchDirectByteBuffer", long.class);
            m.setAccessible(true);
            library = lib.get(null);
            directByteBuffer = m;
        }
        return directByteBuffer;
    }
}
