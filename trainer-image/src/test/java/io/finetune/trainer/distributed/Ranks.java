package io.finetune.trainer.distributed;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * N {@link GlooWorker} JVMs on 127.0.0.1 with torchrun's variables, for one test: each rank's output goes to a file (no
 * pipe can fill up), and {@link #close} destroys every process still running, so no test leaves a JVM behind.
 */
final class Ranks implements AutoCloseable {
    private final Path dir;
    private final List<Process> processes = new ArrayList<>();

    private Ranks(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts the given ranks of a world of {@code worldSize} (a subset leaves the others missing on purpose).
     *
     * @param library libfinetune_gloo.so
     */
    static Ranks start(Path dir, Path library, String scenario, int worldSize, long timeoutMillis, int... ranks) throws IOException {
        Ranks r = new Ranks(dir);
        int port = freePort();
        try {
            for (int rank : ranks) {
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                        GlooWorker.class.getName(), scenario, r.result(rank).toString(), Long.toString(timeoutMillis));
                Map<String, String> env = pb.environment();
                env.put(LaunchEnvironment.RANK, Integer.toString(rank));
                env.put(LaunchEnvironment.WORLD_SIZE, Integer.toString(worldSize));
                env.put(LaunchEnvironment.MASTER_ADDR, "127.0.0.1");
                env.put(LaunchEnvironment.MASTER_PORT, Integer.toString(port));
                env.put(GlooLibrary.LIBRARY_ENV, library.toString());
                env.remove(TransportEndpoint.IFACE_ENV);
                env.remove(TransportEndpoint.TORCH_IFACE_ENV);
                pb.redirectErrorStream(true).redirectOutput(r.log(rank).toFile());
                r.processes.add(pb.start());
            }
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    Process process(int index) {
        return processes.get(index);
    }

    Path result(int rank) {
        return dir.resolve("rank" + rank + ".result");
    }

    Path log(int rank) {
        return dir.resolve("rank" + rank + ".log");
    }

    String output(int rank) throws IOException {
        return Files.exists(log(rank)) ? Files.readString(log(rank), StandardCharsets.UTF_8) : "";
    }

    /** Waits for every process; false when one was still running at the deadline. */
    boolean awaitAll(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Process p : processes) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return true;
    }

    /** Polls a rank's output until it contains {@code text}; false at the deadline or when the process ended first. */
    boolean awaitOutput(int rank, int index, String text, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (output(rank).contains(text)) {
                return true;
            }
            if (!processes.get(index).isAlive()) {
                return output(rank).contains(text);
            }
            Thread.sleep(20);
        }
        return false;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
