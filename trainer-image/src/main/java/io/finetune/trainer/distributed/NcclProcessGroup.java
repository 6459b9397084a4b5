package io.finetune.trainer.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link ProcessGroup} on NVIDIA's NCCL (libnccl.so.2 through libfinetune_nccl.so) for ranks that compute on CUDA
 * devices, one device per rank. Opening it is the rendezvous: rank 0 starts a {@link RendezvousServer} on MASTER_PORT,
 * calls ncclGetUniqueId and publishes the 128-byte id through the {@link RendezvousStore}; every rank checks in, reads the
 * id and creates its communicator (ncclCommInitRankConfig, non-blocking); a barrier then proves the communicator works
 * and the store is closed (all later traffic is NCCL's).
 *
 * <p>Memory: {@link #allReduceSum(NDArray)} reduces the bucket in the device memory it lives in (its storage's device
 * pointer, no copy); the float[] / long[] / FloatBuffer variants (a loss, a stop flag, parameters at the start) are
 * staged through a device buffer. Every collective runs on the CUDA legacy default stream, the stream DJL's torch kernels
 * run on, so it starts after the backward pass that wrote the gradients; the call returns only once the stream is idle,
 * so the caller may read or free the memory at once.
 *
 * <p>Failures: NCCL calls are asynchronous, so each wait polls ncclCommGetAsyncError and cudaStreamQuery until the
 * timeout given to {@link #open}; on a timeout or an error the communicator is aborted (ncclCommAbort) and a
 * {@link CollectiveException} names this rank and the world size. After a failure the group refuses every later
 * collective, as {@link GlooProcessGroup} does. Not run on a GPU yet: on the CPU, its loading, argument checks and
 * declared types are tested, and its control flow (rendezvous, staging, timeouts, abort, refusal) against a test double
 * of NCCL (NcclStubProcessGroupTest); the device all-reduce is not.
 *
 * <p>Thread-safety: the collectives and {@link #close} are synchronized on the group; use it from one thread (the CUDA
 * device is set on the calling thread).
 */
public final class NcclProcessGroup implements ProcessGroup {
    /** The rendezvous key under which rank 0 publishes the NCCL unique id. */
    static final String UNIQUE_ID_KEY = "nccl_unique_id";

    private final int rank;
    private final int worldSize;
    private final Device device;
    private final long timeoutMillis;
    private long handle;
    private boolean closed;
    private String failure;

    private NcclProcessGroup(int rank, int worldSize, Device device, long timeoutMillis, long handle) {
        this.rank = rank;
        this.worldSize = worldSize;
        this.device = device;
        this.timeoutMillis = timeoutMillis;
        this.handle = handle;
    }

    /**
     * Joins the group {@code launch} describes on CUDA device {@code device}; returns when every rank has joined.
     *
     * @param env the process environment: {@value NcclLibrary#LIBRARY_ENV}, {@value NcclLibrary#NCCL_ENV},
     *     {@value NcclLibrary#CUDART_ENV}
     * @throws IllegalArgumentException when {@code device} is not a GPU or the timeout is not positive
     * @throws CollectiveException when the binding or NCCL is missing, rank 0 cannot listen, or the ranks do not all
     *     join within the timeout
     */
    public static NcclProcessGroup open(LaunchEnvironment launch, Duration timeout, Map<String, String> env, Device device) {
        int rank = launch.rank();
        int size = launch.worldSize();
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the collective timeout must be positive, got " + timeout);
        }
        if (!device.isGpu()) {
            throw new IllegalArgumentException("NCCL needs a CUDA device, got " + device + " (use Gloo on the CPU)");
        }
        try {
            NcclLibrary.load(env);
        } catch (CollectiveException e) {
            throw CollectiveException.of(rank, size, e.getMessage());
        }
        long millis = timeout.toMillis();
        int gpu = device.getDeviceId();
        if (size == 1) {   // nobody to exchange the id with: no rendezvous
            try {
                return joined(new NcclProcessGroup(0, 1, device, millis, NcclNative.init(gpu, 0, 1, NcclNative.uniqueId(gpu), millis)));
            } catch (NcclError e) {
                throw CollectiveException.of(0, 1, e.describe("NCCL init on " + device, millis, 0, 1));
            }
        }
        RendezvousServer server = rank == 0 ? listen(launch) : null;
        try (RendezvousStore store = RendezvousStore.connect(rank, size, launch.masterAddress(), launch.masterPort(), timeout)) {
            long h;
            try {
                if (rank == 0) {
                    store.set(UNIQUE_ID_KEY, NcclNative.uniqueId(gpu));
                }
                store.set("rank_" + rank, new byte[0]);   // checked in: NCCL's init starts only when every rank is here
                String[] everyone = new String[size];
                for (int r = 0; r < size; r++) {
                    everyone[r] = "rank_" + r;
                }
                store.await(everyone, millis);
                h = NcclNative.init(gpu, rank, size, store.get(UNIQUE_ID_KEY), millis);
            } catch (NcclError e) {
                throw CollectiveException.of(rank, size, e.describe("rendezvous (NCCL on " + device + ")", millis, rank, size));
            }
            return joined(new NcclProcessGroup(rank, size, device, millis, h));
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    /** A barrier proves the communicator works; on failure the group is closed (aborted). */
    private static NcclProcessGroup joined(NcclProcessGroup group) {
        try {
            group.barrier();
        } catch (RuntimeException e) {
            group.close();
            throw e;
        }
        return group;
    }

    private static RendezvousServer listen(LaunchEnvironment launch) {
        InetAddress bind = TransportEndpoint.loopbackOrNull(launch.masterAddress());
        try {
            return RendezvousServer.start(bind, launch.masterPort());
        } catch (IOException e) {
            throw CollectiveException.of(0, launch.worldSize(), "cannot listen for the rendezvous on "
                    + LaunchEnvironment.MASTER_PORT + "=" + launch.masterPort() + ": " + e.getMessage());
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return worldSize;
    }

    /** The CUDA device this rank's communicator runs on. */
    public Device device() {
        return device;
    }

    @Override
    public synchronized void allReduceSum(NDArray bucket) {
        HostBucket.require(bucket);
        if (!device.equals(bucket.getDevice())) {
            throw new IllegalArgumentException("the bucket is on " + bucket.getDevice() + " but this rank's NCCL"
                    + " communicator runs on " + device);
        }
        long n = bucket.size();
        run("all-reduce", n, h -> {
            ByteBuffer storage = DevicePointers.of(bucket);   // the device pointer; never read from Java
            NcclNative.allReduceDevice(h, storage, n, NcclNative.FLOAT32, NcclNative.SUM, timeoutMillis);
        });
    }

    @Override
    public synchronized void allReduceSum(float[] data) {
        Objects.requireNonNull(data, "data");
        run("all-reduce", data.length, h -> host(h, data, 0, data.length, NcclNative.FLOAT32, NcclNative.SUM, 0));
    }

    @Override
    public synchronized void allReduceSum(FloatBuffer data) {
        Buffers.requireDirect(data);
        run("all-reduce", data.remaining(),
                h -> host(h, data, data.position(), data.remaining(), NcclNative.FLOAT32, NcclNative.SUM, 0));
    }

    @Override
    public synchronized void allReduceMax(long[] data) {
        Objects.requireNonNull(data, "data");
        run("all-reduce (max)", data.length, h -> host(h, data, 0, data.length, NcclNative.INT64, NcclNative.MAX, 0));
    }

    @Override
    public synchronized void broadcast(float[] data, int root) {
        Objects.requireNonNull(data, "data");
        Buffers.requireRoot(root, worldSize);
        run("broadcast from rank " + root, data.length,
                h -> host(h, data, 0, data.length, NcclNative.FLOAT32, NcclNative.BROADCAST, root));
    }

    @Override
    public synchronized void broadcast(FloatBuffer data, int root) {
        Buffers.requireDirect(data);
        Buffers.requireRoot(root, worldSize);
        run("broadcast from rank " + root, data.remaining(),
                h -> host(h, data, data.position(), data.remaining(), NcclNative.FLOAT32, NcclNative.BROADCAST, root));
    }

    /** NCCL has no barrier: a one-float all-reduce (what torch's ProcessGroupNCCL does too). */
    @Override
    public synchronized void barrier() {
        float[] one = {1f};
        run("barrier", 1, h -> host(h, one, 0, 1, NcclNative.FLOAT32, NcclNative.SUM, 0));
    }

    /** Frees the communicator (ncclCommAbort when a collective failed, so that nothing waits for a lost peer). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long h = handle;
        handle = 0;
        if (h != 0) {
            try {
                NcclNative.destroy(h, failure != null);
            } catch (NcclError e) {
                // closing anyway: the device memory goes with the process at the latest
            }
        }
    }

    private void host(long h, Object data, int position, int length, int dtype, int op, int root) {
        NcclNative.hostCollective(h, data, position, length, dtype, op, root, timeoutMillis);
    }

    private interface Call {
        void on(long handle);
    }

    private void run(String operation, long elements, Call call) {
        if (closed) {
            throw new IllegalStateException(CollectiveException.prefix(rank, worldSize) + "the process group is closed");
        }
        if (failure != null) {
            throw CollectiveException.of(rank, worldSize, operation + " refused: the group failed earlier (" + failure + ")");
        }
        if (elements == 0) {
            return;
        }
        try {
            call.on(handle);
        } catch (NcclError e) {
            failure = e.describe(operation, timeoutMillis, rank, worldSize);
            throw CollectiveException.of(rank, worldSize, failure);
        }
    }
}
