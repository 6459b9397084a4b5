package io.finetune.trainer.distributed;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The key-value store rank 0 hosts at MASTER_ADDR:MASTER_PORT while the ranks connect, in the role of c10d's TCPStore:
 * {@code set} and {@code get}-with-wait, nothing else. Debian's Gloo has file, hash, prefix and redis stores but no TCP one,
 * and pods share no directory. It carries only the few bytes of addresses Gloo's connectFullMesh publishes; one thread
 * accepts, one thread serves each rank's connection. {@link GlooProcessGroup} closes it once every rank is connected.
 *
 * <p>Wire format (big-endian, {@link DataOutputStream}): a request is an {@link Op} byte, the key as modified UTF-8, then
 * for SET an int length and the value, for GET a long wait in milliseconds; SET answers {@link #OK}, GET answers
 * {@link #FOUND} with an int length and the value, or {@link #MISSING} when the wait ran out.
 */
final class RendezvousServer implements AutoCloseable {
    /** The requests. */
    enum Op {
        SET, GET
    }

    static final byte OK = 0;
    static final byte FOUND = 1;
    static final byte MISSING = 2;
    /** Values are addresses (a few hundred bytes); a larger length is a stray client, not a rank. */
    static final int MAX_VALUE_BYTES = 1 << 20;

    private final ServerSocket listener;
    private final Map<String, byte[]> values = new HashMap<>();
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private RendezvousServer(ServerSocket listener) {
        this.listener = listener;
    }

    /** Listens on {@code bind}:{@code port} (null: every interface, as TCPStore does) and serves in daemon threads. */
    static RendezvousServer start(InetAddress bind, int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        try {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(bind, port), 64);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        RendezvousServer server = new RendezvousServer(socket);
        Thread accept = new Thread(server::acceptLoop, "rendezvous-accept-" + port);
        accept.setDaemon(true);
        accept.start();
        return server;
    }

    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                connections.add(client);
                Thread serve = new Thread(() -> serve(client), "rendezvous-serve-" + client.getPort());
                serve.setDaemon(true);
                serve.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket client) {
        try (client;
             DataInputStream in = new DataInputStream(new BufferedInputStream(client.getInputStream()));
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(client.getOutputStream()))) {
            client.setTcpNoDelay(true);
            while (!closed) {
                int op = in.read();
                if (op < 0) {
                    return;
                }
                String key = in.readUTF();
                if (op == Op.SET.ordinal()) {
                    int length = in.readInt();
                    if (length < 0 || length > MAX_VALUE_BYTES) {
                        return;
                    }
                    byte[] value = in.readNBytes(length);
                    if (value.length != length) {
                        return;
                    }
                    put(key, value);
                    out.writeByte(OK);
                } else if (op == Op.GET.ordinal()) {
                    byte[] value = await(key, in.readLong());
                    if (value == null) {
                        out.writeByte(MISSING);
                    } else {
                        out.writeByte(FOUND);
                        out.writeInt(value.length);
                        out.write(value);
                    }
                } else {
                    return; // not our protocol
                }
                out.flush();
            }
        } catch (EOFException e) {
            // the rank closed its connection
        } catch (IOException | InterruptedException e) {
            // the connection broke or the server is closing: the client sees it and reports it
        } finally {
            connections.remove(client);
        }
    }

    private synchronized void put(String key, byte[] value) {
        values.put(key, value);
        notifyAll();
    }

    private synchronized byte[] await(String key, long waitMillis) throws InterruptedException {
        long deadline = System.nanoTime() + Math.max(0, waitMillis) * 1_000_000L;
        while (!values.containsKey(key) && !closed) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return null;
            }
            wait(left);
        }
        return values.get(key);
    }

    /** Stops listening and drops every connection; idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : connections) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        synchronized (this) {
            notifyAll();
        }
    }
}
