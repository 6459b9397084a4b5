package io.finetune.trainer.distributed;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * One rank's connection to the {@link RendezvousServer} rank 0 hosts. Gloo's connectFullMesh calls {@link #set},
 * {@link #get} and {@link #await} from C++ (the Store in finetune_gloo.cc calls back into this class on the connecting
 * thread). Why in Java and not a C++ TCP store: it carries a few hundred bytes once per run, and in Java its retries,
 * timeouts and messages (which rank never came) are plain code with plain tests; a C++ server thread would be one more
 * place where an exception could abort the JVM. Every wait is bounded by the group's timeout; a failure is a
 * {@link CollectiveException} naming this rank and, for a key a rank publishes, the rank that did not.
 */
final class RendezvousStore implements AutoCloseable {
    private static final long RETRY_MILLIS = 200;
    /** Answers come within the requested wait; this margin only covers the network. */
    private static final int READ_MARGIN_MILLIS = 10_000;

    private final int rank;
    private final int worldSize;
    private final String where;
    private final long timeoutMillis;
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final Map<String, byte[]> cache = new HashMap<>();

    private RendezvousStore(int rank, int worldSize, String where, long timeoutMillis, Socket socket) throws IOException {
        this.rank = rank;
        this.worldSize = worldSize;
        this.where = where;
        this.timeoutMillis = timeoutMillis;
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    /**
     * Connects to rank 0's store, retrying while it is not up yet (the ranks start in any order) until the timeout.
     *
     * @throws CollectiveException when no connection could be made within the timeout
     */
    static RendezvousStore connect(int rank, int worldSize, String host, int port, Duration timeout) {
        String where = LaunchEnvironment.MASTER_ADDR + "=" + host + " " + LaunchEnvironment.MASTER_PORT + "=" + port;
        long timeoutMillis = timeout.toMillis();
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                break;
            }
            Socket socket = new Socket();
            try {
                socket.setTcpNoDelay(true);
                // Resolved on every try: in a pod, rank 0's DNS record may appear after this rank starts.
                socket.connect(new InetSocketAddress(host, port), (int) Math.min(left, Integer.MAX_VALUE));
                return new RendezvousStore(rank, worldSize, where, timeoutMillis, socket);
            } catch (IOException e) {
                last = e;
                closeQuietly(socket);
            }
            try {
                Thread.sleep(Math.min(RETRY_MILLIS, Math.max(1, (deadline - System.nanoTime()) / 1_000_000L)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw CollectiveException.of(rank, worldSize, "interrupted while connecting to the rendezvous store at " + where);
            }
        }
        throw CollectiveException.of(rank, worldSize, "cannot reach rank 0's rendezvous store at " + where + " within "
                + CollectiveException.seconds(timeoutMillis) + " (" + (last == null ? "no attempt" : last.getClass().getSimpleName() + ": "
                + last.getMessage()) + "; is rank 0 up and " + LaunchEnvironment.MASTER_ADDR + " its address?)");
    }

    /** Publishes {@code value} under {@code key}. Called by Gloo. */
    void set(String key, byte[] value) {
        try {
            socket.setSoTimeout(READ_MARGIN_MILLIS);
            out.writeByte(RendezvousServer.Op.SET.ordinal());
            out.writeUTF(key);
            out.writeInt(value.length);
            out.write(value);
            out.flush();
            int answer = in.readByte();
            if (answer != RendezvousServer.OK) {
                throw broken("unexpected answer " + answer + " to set");
            }
        } catch (IOException e) {
            throw broken(e.toString());
        }
    }

    /** The value under {@code key}, waiting up to the group's timeout for a rank to publish it. Called by Gloo. */
    byte[] get(String key) {
        byte[] value = cache.get(key);
        if (value != null) {
            return value;
        }
        value = fetch(key, timeoutMillis);
        cache.put(key, value);
        return value;
    }

    /** Returns once every key is published, or fails after {@code waitMillis} (Gloo passes its timeout). */
    void await(String[] keys, long waitMillis) {
        long deadline = System.nanoTime() + Math.max(0, waitMillis) * 1_000_000L;
        for (String key : keys) {
            if (!cache.containsKey(key)) {
                long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
                cache.put(key, fetch(key, left, waitMillis));
            }
        }
    }

    private byte[] fetch(String key, long waitMillis) {
        return fetch(key, waitMillis, waitMillis);
    }

    private byte[] fetch(String key, long waitMillis, long reportedMillis) {
        try {
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, waitMillis + READ_MARGIN_MILLIS));
            out.writeByte(RendezvousServer.Op.GET.ordinal());
            out.writeUTF(key);
            out.writeLong(waitMillis);
            out.flush();
            int answer = in.readByte();
            if (answer == RendezvousServer.MISSING) {
                throw CollectiveException.of(rank, worldSize, "rendezvous at " + where + " timed out after "
                        + CollectiveException.seconds(reportedMillis) + " waiting for " + publisher(key));
            }
            if (answer != RendezvousServer.FOUND) {
                throw broken("unexpected answer " + answer + " to get");
            }
            int length = in.readInt();
            return in.readNBytes(length);
        } catch (IOException e) {
            throw broken(e.toString());
        }
    }

    /** Gloo's keys: "rank_N" (hostnames) and "N" (addresses) are published by rank N (NCCL's "rank_N" check-ins too). */
    private String publisher(String key) {
        if (key.equals(NcclProcessGroup.UNIQUE_ID_KEY)) {
            return "rank 0's NCCL unique id (did rank 0 start?)";
        }
        String digits = key.startsWith("rank_") ? key.substring("rank_".length()) : key;
        if (!digits.isEmpty() && digits.chars().allMatch(Character::isDigit)) {
            return "rank " + digits + " (did rank " + digits + " start? all " + LaunchEnvironment.WORLD_SIZE + "=" + worldSize
                    + " ranks must join)";
        }
        return "key '" + key + "'";
    }

    private CollectiveException broken(String why) {
        return CollectiveException.of(rank, worldSize, "rendezvous store of rank 0 at " + where
                + " closed the connection (did rank 0 die?): " + why);
    }

    @Override
    public void close() {
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
