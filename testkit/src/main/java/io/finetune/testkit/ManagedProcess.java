package io.finetune.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One control-plane process (etcd, kube-apiserver, ...) with its output in a log file.
 *
 * <p>The command runs under a tiny {@code /bin/sh} watchdog that stops it when this JVM disappears, so a test JVM killed
 * with SIGKILL (surefire timeout, Ctrl-C) leaves no orphan etcd/apiserver behind; {@link #close()} is the normal path.
 */
final class ManagedProcess implements AutoCloseable {
    private static final String WATCHDOG = String.join("\n",
            "jvm=$1; shift",
            "\"$@\" &",
            "child=$!",
            "trap 'kill -TERM $child 2>/dev/null; wait $child; exit 143' TERM INT",
            "while kill -0 \"$jvm\" 2>/dev/null && kill -0 \"$child\" 2>/dev/null; do sleep 1; done",
            "kill -TERM $child 2>/dev/null",
            "wait $child");

    private final String name;
    private final Process process;
    private final Path logFile;

    private ManagedProcess(String name, Process process, Path logFile) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
    }

    static ManagedProcess start(String name, List<String> command, Path logFile) {
        List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", WATCHDOG, "watchdog",
                Long.toString(ProcessHandle.current().pid())));
        wrapped.addAll(command);
        try {
            Process p = new ProcessBuilder(wrapped)
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
            return new ManagedProcess(name, p, logFile);
        } catch (IOException e) {
            throw new ControlPlaneException("cannot start " + name + " (" + command.get(0) + "): " + e.getMessage(), e);
        }
    }

    String name() {
        return name;
    }

    Path logFile() {
        return logFile;
    }

    /** The watchdog and everything it started (for tests checking that nothing survives {@link #close()}). */
    List<ProcessHandle> handles() {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        return all;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The last {@code lines} lines of the log, for error messages. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e.getMessage() + ")";
        }
    }

    /** Exception naming the process, what went wrong, and the tail of its log. */
    ControlPlaneException failure(String what) {
        String state = process.isAlive() ? "still running" : "exited with status " + process.exitValue();
        return new ControlPlaneException(name + ": " + what + " (" + state + "; log " + logFile + "), last lines:\n"
                + tail(40));
    }

    /** SIGTERM to the real process (the watchdog's children) and the watchdog; SIGKILL whatever is left after 15 s. */
    @Override
    public void close() {
        List<ProcessHandle> children = process.descendants().toList();
        children.forEach(ProcessHandle::destroy);
        process.destroy();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (ProcessHandle h : children) {
            waitFor(h, deadline);
        }
        waitFor(process.toHandle(), deadline);
    }

    private static void waitFor(ProcessHandle h, long deadlineNanos) {
        try {
            long left = Math.max(1, deadlineNanos - System.nanoTime());
            h.onExit().get(left, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            h.destroyForcibly();
        } catch (Exception e) {
            h.destroyForcibly();
        }
    }
}
