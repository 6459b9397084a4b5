package io.finetune.trainer.distributed;

import java.nio.FloatBuffer;

/**
 * The JNI entry points of libfinetune_gloo.so (trainer-image/src/main/native/gloo/finetune_gloo.cc). Every method throws
 * {@link GlooError} on an engine failure, or the exception a {@link RendezvousStore} callback raised; none lets a C++
 * exception reach the JVM. Load the library with {@link GlooLibrary#load} before the first call.
 */
final class GlooNative {
    private GlooNative() {
    }

    /**
     * Creates a TCP device on {@code iface} (when not empty) or the address of {@code hostname}, and connects a full mesh
     * of {@code size} ranks through {@code store}. Returns the group's handle.
     */
    static native long connect(int rank, int size, String hostname, String iface, long timeoutMillis, RendezvousStore store);

    static native void allReduceSumArray(long handle, float[] data);

    /** {@code buffer} must be direct; {@code position} and {@code length} are in floats. */
    static native void allReduceSumBuffer(long handle, FloatBuffer buffer, int position, int length);

    static native void allReduceMaxLongs(long handle, long[] data);

    static native void broadcastArray(long handle, float[] data, int root);

    static native void broadcastBuffer(long handle, FloatBuffer buffer, int position, int length, int root);

    static native void barrier(long handle);

    static native void destroy(long handle);

    /** The shared object gloo::allreduce resolved to in this process (dladdr). */
    static native String resolvedGlooLibrary();
}
