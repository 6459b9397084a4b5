package io.finetune.trainer.distributed;

import ai.djl.ndarray.NDArray;
import java.nio.FloatBuffer;

/**
 * World size 1: every collective is the identity (a sum over one rank is the rank's own data), so the trainer runs the
 * same code with and without peers. Arguments are checked as a real group would check them.
 */
public final class SingleProcessGroup implements ProcessGroup {
    private volatile boolean closed;

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public void allReduceSum(float[] data) {
        open();
        java.util.Objects.requireNonNull(data, "data");
    }

    @Override
    public void allReduceSum(FloatBuffer data) {
        open();
        Buffers.requireDirect(data);
    }

    @Override
    public void allReduceSum(NDArray bucket) {
        open();
        HostBucket.require(bucket);
    }

    @Override
    public void allReduceMax(long[] data) {
        open();
        java.util.Objects.requireNonNull(data, "data");
    }

    @Override
    public void broadcast(float[] data, int root) {
        open();
        java.util.Objects.requireNonNull(data, "data");
        Buffers.requireRoot(root, 1);
    }

    @Override
    public void broadcast(FloatBuffer data, int root) {
        open();
        Buffers.requireDirect(data);
        Buffers.requireRoot(root, 1);
    }

    @Override
    public void barrier() {
        open();
    }

    @Override
    public void close() {
        closed = true;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("the process group is closed");
        }
    }
}
