package io.finetune.trainer.distributed;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The JNI entry points of libfinetune_nccl.so (trainer-image/src/main/native/nccl). Every method throws
 * {@link NcclError} on a failure; none lets a C++ exception reach the JVM. Load the library with {@link NcclLibrary#load}
 * first; every call but {@link #declared} needs {@link #bind} to have succeeded.
 */
final class NcclNative {
    /** NCCL's ncclDataType_t and ncclRedOp_t values the binding passes (src/nccl.h.in). */
    static final int INT64 = 4;
    static final int FLOAT32 = 7;
    static final int SUM = 0;
    static final int MAX = 2;
    /** {@link #hostCollective}'s op for a broadcast. */
    static final int BROADCAST = -1;

    private NcclNative() {
    }

    /**
     * Opens NVIDIA's libraries: {@code nccl} a path or soname (the copy already loaded in this process when a soname),
     * {@code cudart} a path, or empty for the libcudart already loaded (libtorch_cuda's), else CUDA 13/12/11's sonames.
     */
    static native void bind(String nccl, String cudart);

    /** Which files the binding resolved, and NCCL's version code; empty before {@link #bind}. */
    static native String describeBinding();

    /**
     * What the binding declares, in this order: sizeof ncclUniqueId, ncclResult_t, ncclDataType_t, ncclRedOp_t, the 2.14
     * ncclConfig_t, ncclComm_t; ncclSuccess, ncclRemoteError, ncclInProgress, ncclInt64, ncclFloat32, ncclSum, ncclMax,
     * NCCL_API_MAGIC, the config's version; cudaStreamLegacy, cudaErrorNotReady, cudaMemcpyHostToDevice,
     * cudaMemcpyDeviceToHost. Needs no NVIDIA library.
     */
    static native long[] declared();

    /** ncclGetUniqueId on {@code device}: 128 bytes. */
    static native byte[] uniqueId(int device);

    /** ncclCommInitRankConfig (non-blocking), waited for at most {@code timeoutMillis}; returns the group's handle. */
    static native long init(int device, int rank, int size, byte[] id, long timeoutMillis);

    /** In-place all-reduce of {@code count} elements of the device memory {@code deviceBuffer} addresses. */
    static native void allReduceDevice(long handle, ByteBuffer deviceBuffer, long count, int dtype, int op, long timeoutMillis);

    /** In-place broadcast of {@code count} floats of device memory. */
    static native void broadcastDevice(long handle, ByteBuffer deviceBuffer, long count, int root, long timeoutMillis);

    /**
     * A collective on host memory ({@code float[]}, {@code long[]} or a direct {@link FloatBuffer}; position/length in
     * elements), staged through a device buffer; {@code op} {@link #SUM}, {@link #MAX} or {@link #BROADCAST}.
     */
    static native void hostCollective(long handle, Object data, int position, int length, int dtype, int op, int root,
                                      long timeoutMillis);

    /** Frees the group: ncclCommAbort when {@code failed}, else ncclCommDestroy. */
    static native void destroy(long handle, boolean failed);
}
