package io.finetune.trainer.distributed;

import ai.djl.ndarray.NDArray;
import java.nio.FloatBuffer;

/**
 * The ranks of one data-parallel run, and the collectives the trainer needs from them. Every rank must call the same
 * collectives in the same order with the same lengths (as with torch.distributed): a rank that skips one leaves the others
 * waiting until the timeout. Collectives give every rank the same bits.
 *
 * <p>Gradient buckets are NDArrays on the device the rank computes on ({@link #allReduceSum(NDArray)}): NCCL reduces them
 * in device memory, Gloo through a host buffer, so the trainer calls one method for both engines. The other buffers live
 * in host memory: {@code float[]} for convenience, or a direct {@link FloatBuffer} in native byte order (no copy on Gloo:
 * the engine reads and writes the buffer's memory; a {@code float[]} costs two copies per call).
 *
 * <p>Thread-safety: an implementation serializes calls on one group (they are collectives: issuing two at once from
 * different threads would pair them differently on different ranks), so use a group from one thread. {@link #close()} is
 * idempotent; after it every collective throws {@link IllegalStateException}. A collective that fails throws
 * {@link CollectiveException}, and the group refuses every later collective: after a failure the ranks no longer agree on
 * where they are.
 */
public interface ProcessGroup extends AutoCloseable {

    /** This process's rank, 0 .. worldSize-1. Rank 0 writes checkpoints and artifacts. */
    int rank();

    /** The number of processes in the group. */
    int worldSize();

    /** Sums {@code data} element-wise over all ranks, in place; on failure the array is left as it was. */
    void allReduceSum(float[] data);

    /** Sums the buffer's remaining elements (position to limit) over all ranks, in place; the position is not moved. */
    void allReduceSum(FloatBuffer data);

    /**
     * Sums a gradient bucket over all ranks, in place: a contiguous float32 NDArray on the device this rank computes on.
     * NCCL reduces it where it lives (its storage's device pointer, no copy); Gloo copies it through a host buffer. This
     * default is the host route with a fresh buffer per call (for groups without a device engine); engines override it.
     */
    default void allReduceSum(NDArray bucket) {
        new HostBucket().allReduceSum(this, bucket);
    }

    /**
     * The mean over all ranks: the sum, then divided by the world size on each rank (Gloo has no AVG; the sum is
     * identical on every rank, so the mean is too).
     */
    default void allReduceMean(float[] data) {
        allReduceSum(data);
        float n = worldSize();
        for (int i = 0; i < data.length; i++) {
            data[i] /= n;
        }
    }

    /** The mean of the buffer's remaining elements over all ranks, in place; see {@link #allReduceMean(float[])}. */
    default void allReduceMean(FloatBuffer data) {
        allReduceSum(data);
        float n = worldSize();
        for (int i = data.position(); i < data.limit(); i++) {
            data.put(i, data.get(i) / n);
        }
    }

    /** The element-wise maximum over all ranks, in place: e.g. a stop flag that any rank can raise. */
    void allReduceMax(long[] data);

    /** Overwrites {@code data} on every rank with rank {@code root}'s copy. */
    void broadcast(float[] data, int root);

    /** Overwrites the buffer's remaining elements on every rank with rank {@code root}'s. */
    void broadcast(FloatBuffer data, int root);

    /** Returns once every rank has entered it. */
    void barrier();

    /** Releases the connections; idempotent. */
    @Override
    void close();
}
