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
 * N JVMs on 127.0.0.1 with torchrun's variables, for one test: {@link GlooWorker}s ({@link #start}) or the real trainer
 * ({@link #trainer}); each rank's output goes to a file (no pipe can fill up), and {@link #close} destroys every process
 * still running, so no test leaves a JVM behind.
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
        return launch(dir, library, worldSize, rank -> List.of("-Xmx512m", GlooWorker.class.getName(), scenario,
                dir.resolve("rank" + rank + ".result").toString(), Long.toString(timeoutMillis)), Map.of(), ranks);
    }

    /**
     * The given ranks of a world of {@code worldSize}, each {@code java -cp <test classpath> <command(rank)>} with
     * {@code extraEnv} added (no Gloo library is named: e.g. the NCCL stub's workers).
     */
    static Ranks start(Path dir, int worldSize, Map<String, String> extraEnv, java.util.function.IntFunction<List<String>> command,
                       int... ranks) throws IOException {
        return launch(dir, null, worldSize, command, extraEnv, ranks);
    }

    /**
     * Every rank of the real trainer, {@code io.finetune.trainer.Main run <job> --output <output>}, one compute thread
     * each; world size 1 is a plain single process (no torchrun variables).
     */
    static Ranks trainer(Path library, Path job, Path output, int worldSize, Path logs) throws IOException {
        Files.createDirectories(logs);
        int[] ranks = java.util.stream.IntStream.range(0, worldSize).toArray();
        return launch(logs, library, worldSize, rank -> List.of("-Xmx768m", "io.finetune.trainer.Main", "run",
                job.toString(), "--output", output.toString()), Map.of("OMP_NUM_THREADS", "1"), ranks);
    }

    /**
     * Starts {@code java -cp <test classpath> <jvmAndMain(rank)>} for each rank, with torchrun's variables above world 1
     * ({@code library}: libfinetune_gloo.so, or null to name none).
     */
    private static Ranks launch(Path dir, Path library, int worldSize, java.util.function.IntFunction<List<String>> command,
                                Map<String, String> extraEnv, int... ranks) throws IOException {
        Ranks r = new Ranks(dir);
        int port = freePort();
        try {
            for (int rank : ranks) {
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                List<String> argv = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path")));
                argv.addAll(command.apply(rank));
                ProcessBuilder pb = new ProcessBuilder(argv);
                Map<String, String> env = pb.environment();
                if (worldSize > 1) {
                    env.put(LaunchEnvironment.RANK, Integer.toString(rank));
                    env.put(LaunchEnvironment.WORLD_SIZE, Integer.toString(worldSize));
                    env.put(LaunchEnvironment.MASTER_ADDR, "127.0.0.1");
                    env.put(LaunchEnvironment.MASTER_PORT, Integer.toString(port));
                } else {
                    env.remove(LaunchEnvironment.RANK);
                    env.remove(LaunchEnvironment.WORLD_SIZE);
                }
                env.putAll(extraEnv);
                if (library != null) {
                    env.put(GlooLibrary.LIBRARY_ENV, library.toString());
                }
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

    /** Every rank's exit code after waiting at most {@code seconds} in all, null for one still running. */
    Integer[] exitCodes(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Integer[] codes = new Integer[processes.size()];
        for (int i = 0; i < codes.length; i++) {
            long left = Math.max(0, deadline - System.nanoTime());
            codes[i] = processes.get(i).waitFor(left, TimeUnit.NANOSECONDS) ? processes.get(i).exitValue() : null;
        }
        return codes;
    }

    /** Every rank's output, one after the other (for assertion messages); ranks 0..n-1 in start order. */
    String allOutput() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < processes.size(); r++) {
            sb.append("\n--- rank ").append(r).append(" ---\n").append(output(r));
        }
        return sb.toString();
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
