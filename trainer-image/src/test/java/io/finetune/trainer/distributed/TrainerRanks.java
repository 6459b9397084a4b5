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
 * The real trainer ({@code io.finetune.trainer.Main run job.yaml --output DIR}) as N JVMs on 127.0.0.1 with torchrun's
 * variables, one thread each; each rank's output goes to a file, and {@link #close} destroys whatever still runs.
 */
final class TrainerRanks implements AutoCloseable {
    private final Path logs;
    private final List<Process> processes = new ArrayList<>();

    private TrainerRanks(Path logs) {
        this.logs = logs;
    }

    /** World size {@code world} (1: a plain single process, no torchrun variables). */
    static TrainerRanks start(Path library, Path job, Path output, int world, Path logs) throws IOException {
        Files.createDirectories(logs);
        TrainerRanks r = new TrainerRanks(logs);
        int port = freePort();
        try {
            for (int rank = 0; rank < world; rank++) {
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                ProcessBuilder pb = new ProcessBuilder(java, "-Xmx768m", "-cp", System.getProperty("java.class.path"),
                        "io.finetune.trainer.Main", "run", job.toString(), "--output", output.toString());
                Map<String, String> env = pb.environment();
                env.put("OMP_NUM_THREADS", "1");
                env.put(GlooLibrary.LIBRARY_ENV, library.toString());
                env.remove(TransportEndpoint.IFACE_ENV);
                env.remove(TransportEndpoint.TORCH_IFACE_ENV);
                if (world > 1) {
                    env.put(LaunchEnvironment.RANK, Integer.toString(rank));
                    env.put(LaunchEnvironment.WORLD_SIZE, Integer.toString(world));
                    env.put(LaunchEnvironment.MASTER_ADDR, "127.0.0.1");
                    env.put(LaunchEnvironment.MASTER_PORT, Integer.toString(port));
                } else {
                    env.remove(LaunchEnvironment.RANK);
                    env.remove(LaunchEnvironment.WORLD_SIZE);
                }
                pb.redirectErrorStream(true).redirectOutput(r.log(rank).toFile());
                r.processes.add(pb.start());
            }
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    Process process(int rank) {
        return processes.get(rank);
    }

    Path log(int rank) {
        return logs.resolve("rank" + rank + ".log");
    }

    String output(int rank) throws IOException {
        return Files.exists(log(rank)) ? Files.readString(log(rank), StandardCharsets.UTF_8) : "";
    }

    /** Every rank's output, one after the other (for assertion messages). */
    String allOutput() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < processes.size(); r++) {
            sb.append("\n--- rank ").append(r).append(" ---\n").append(output(r));
        }
        return sb.toString();
    }

    /** Every rank's exit code, or null for one still running at the deadline. */
    Integer[] await(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Integer[] codes = new Integer[processes.size()];
        for (int i = 0; i < codes.length; i++) {
            long left = Math.max(0, deadline - System.nanoTime());
            codes[i] = processes.get(i).waitFor(left, TimeUnit.NANOSECONDS) ? processes.get(i).exitValue() : null;
        }
        return codes;
    }

    /** Waits until rank's output contains {@code text}; false at the deadline or when the rank exited first. */
    boolean awaitOutput(int rank, String text, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (output(rank).contains(text)) {
                return true;
            }
            if (!processes.get(rank).isAlive()) {
                return output(rank).contains(text);
            }
            Thread.sleep(50);
        }
        return false;
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

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
