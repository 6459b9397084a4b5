package io.finetune.trainer.distributed;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;

/** Argument checks shared by the groups: what the engine reads as raw memory must be a writable direct buffer. */
final class Buffers {
    private Buffers() {
    }

    static void requireDirect(FloatBuffer data) {
        Objects.requireNonNull(data, "data");
        if (!data.isDirect()) {
            throw new IllegalArgumentException("collectives on a FloatBuffer need a direct buffer (ByteBuffer.allocateDirect"
                    + "(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer()); use the float[] variant for heap data");
        }
        if (data.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("the FloatBuffer is " + data.order() + " but the engine reads native order ("
                    + ByteOrder.nativeOrder() + "): create it with .order(ByteOrder.nativeOrder())");
        }
        if (data.isReadOnly()) {
            throw new IllegalArgumentException("the FloatBuffer is read-only: collectives write their result into it");
        }
    }

    static void requireRoot(int root, int worldSize) {
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException("broadcast root " + root + " is not a rank of a group of " + worldSize);
        }
    }
}
