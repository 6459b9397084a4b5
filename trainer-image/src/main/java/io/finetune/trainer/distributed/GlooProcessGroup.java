package io.finetune.trainer.distributed;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link ProcessGroup} on Gloo (Debian's libgloo through libfinetune_gloo.so): all-reduce (ring), broadcast and barrier
 * over Gloo's TCP transport. Opening it is the rendezvous: rank 0 starts a {@link RendezvousServer} on MASTER_PORT, every
 * rank connects a {@link RendezvousStore} to it and Gloo's connectFullMesh exchanges the ranks' addresses through it; a
 * barrier then proves the mesh is complete and the store is closed (all later traffic is Gloo's).
 *
 * <p>Failures: every operation is bounded by the timeout given to {@link #open} (Gloo's context timeout). A peer that dies
 * closes its connections, so the others fail at once; a hung peer makes them fail at the timeout. Both throw
 * {@link CollectiveException} naming this rank, the world size and, where Gloo's message names an address, the peer rank.
 * After a failure the group refuses every later collective. The native calls are not interruptible; the timeout bounds them.
 *
 * <p>Thread-safety: the collectives and {@link #close} are synchronized on the group; use it from one thread.
 */
public final class GlooProcessGroup implements ProcessGroup {
    private final int rank;
    private final int worldSize;
    private final long timeoutMillis;
    /** The host buffer gradient buckets are reduced in (kept: 25 MiB per bucket, every step). */
    private final HostBucket buckets = new HostBucket();
    private long handle;
    private boolean closed;
    private String failure;

    private GlooProcessGroup(int rank, int worldSize, long timeoutMillis, long handle) {
        this.rank = rank;
        this.worldSize = worldSize;
        this.timeoutMillis = timeoutMillis;
        this.handle = handle;
    }

    /**
     * Joins the group {@code launch} describes; returns when every rank has joined.
     *
     * @param env the process environment: {@value GlooLibrary#LIBRARY_ENV}, {@value TransportEndpoint#IFACE_ENV}
     * @throws CollectiveException when the binding is missing, rank 0 cannot listen, or the ranks do not all join within
     *     the timeout
     */
    public static GlooProcessGroup open(LaunchEnvironment launch, Duration timeout, Map<String, String> env) {
        int rank = launch.rank();
        int size = launch.worldSize();
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the collective timeout must be positive, got " + timeout);
        }
        GlooLibrary.load(env);
        long millis = timeout.toMillis();
        TransportEndpoint endpoint = TransportEndpoint.choose(env, launch.masterAddress(), rank, size);
        RendezvousServer server = rank == 0 ? listen(launch) : null;
        try (RendezvousStore store = RendezvousStore.connect(rank, size, launch.masterAddress(), launch.masterPort(), timeout)) {
            long handle;
            try {
                handle = GlooNative.connect(rank, size, endpoint.hostname(), endpoint.iface(), millis, store);
            } catch (GlooError e) {
                throw CollectiveException.of(rank, size, e.describe("rendezvous (" + describe(endpoint) + ")", millis, rank, size));
            }
            GlooProcessGroup group = new GlooProcessGroup(rank, size, millis, handle);
            try {
                group.barrier();
            } catch (RuntimeException e) {
                group.close();
                throw e;
            }
            return group;
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    private static RendezvousServer listen(LaunchEnvironment launch) {
        InetAddress bind = TransportEndpoint.loopbackOrNull(launch.masterAddress());
        try {
            return RendezvousServer.start(bind, launch.masterPort());
        } catch (IOException e) {
            throw CollectiveException.of(0, launch.worldSize(), "cannot listen for the rendezvous on "
                    + LaunchEnvironment.MASTER_PORT + "=" + launch.masterPort() + " (" + (bind == null ? "all interfaces" : bind.getHostAddress())
                    + "): " + e.getMessage());
        }
    }

    private static String describe(TransportEndpoint endpoint) {
        return endpoint.iface().isEmpty() ? "Gloo on " + endpoint.hostname() : "Gloo on interface " + endpoint.iface();
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return worldSize;
    }

    @Override
    public synchronized void allReduceSum(float[] data) {
        Objects.requireNonNull(data, "data");
        run("all-reduce", data.length, h -> GlooNative.allReduceSumArray(h, data));
    }

    @Override
    public synchronized void allReduceSum(FloatBuffer data) {
        Buffers.requireDirect(data);
        run("all-reduce", data.remaining(), h -> GlooNative.allReduceSumBuffer(h, data, data.position(), data.remaining()));
    }

    /** Through host memory: the bucket is copied into a direct buffer, reduced by Gloo, and copied back. */
    @Override
    public synchronized void allReduceSum(NDArray bucket) {
        buckets.allReduceSum(this, bucket);
    }

    @Override
    public synchronized void allReduceMax(long[] data) {
        Objects.requireNonNull(data, "data");
        run("all-reduce (max)", data.length, h -> GlooNative.allReduceMaxLongs(h, data));
    }

    @Override
    public synchronized void broadcast(float[] data, int root) {
        Objects.requireNonNull(data, "data");
        Buffers.requireRoot(root, worldSize);
        run("broadcast from rank " + root, data.length, h -> GlooNative.broadcastArray(h, data, root));
    }

    @Override
    public synchronized void broadcast(FloatBuffer data, int root) {
        Buffers.requireDirect(data);
        Buffers.requireRoot(root, worldSize);
        run("broadcast from rank " + root, data.remaining(),
                h -> GlooNative.broadcastBuffer(h, data, data.position(), data.remaining(), root));
    }

    @Override
    public synchronized void barrier() {
        run("barrier", 1, GlooNative::barrier);
    }

    /** Destroys the Gloo context (closing its connections); idempotent. */
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
                GlooNative.destroy(h);
            } catch (GlooError e) {
                // closing anyway: the connections go with the process at the latest
            }
        }
    }

    private interface Call {
        void on(long handle);
    }

    private void run(String operation, int elements, Call call) {
        if (closed) {
            throw new IllegalStateException(CollectiveException.prefix(rank, worldSize) + "the process group is closed");
        }
        if (failure != null) {
            throw CollectiveException.of(rank, worldSize, operation + " refused: the group failed earlier (" + failure + ")");
        }
        if (elements == 0) {
            return; // every rank passes the same length: nothing to exchange
        }
        try {
            call.on(handle);
        } catch (GlooError e) {
            failure = e.describe(operation, timeoutMillis, rank, worldSize);
            throw CollectiveException.of(rank, worldSize, failure);
        }
    }
}
