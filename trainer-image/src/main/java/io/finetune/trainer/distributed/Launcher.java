package io.finetune.trainer.distributed;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Starts this node's ranks as child processes and waits for them, in torchrun's role ({@code torchrun --nproc-per-node N}):
 * every child line forwarded with its {@code [rank i] } prefix, one exit code for the whole launch ({@link LaunchResult}),
 * and never a wait without a bound. After the first child fails, the others are given {@link Settings#failureGrace} to fail
 * by themselves (their collectives break within the collective timeout, and each says why) and are then killed. After
 * {@link #stop} (SIGTERM or SIGINT to the launcher, see {@link LauncherSignals}) every child gets SIGTERM, so each
 * checkpoints and exits 75, and is killed when it has not ended within {@link Settings#stopWait}.
 */
public final class Launcher {
    private static final long POLL_MILLIS = 200;
    private static final long OUTPUT_DRAIN_MILLIS = 5_000;
    private static final long KILLED_EXIT_MILLIS = 10_000;
    private static final int KILLED_CODE = 128 + 9;

    /**
     * @param failureGrace how long the other ranks may run after the first failure (the collective timeout + a margin)
     * @param stopWait     how long children may take to checkpoint and exit after SIGTERM
     */
    public record Settings(Duration failureGrace, Duration stopWait) {
    }

    /** One child to start: its global rank, command line and whole environment. */
    public record Child(int rank, List<String> command, Map<String, String> environment) {
        public Child {
            command = List.copyOf(command);
            environment = Map.copyOf(environment);
        }
    }

    private record Exited(int rank, int code) {
    }

    private final List<Child> children;
    private final Settings settings;
    private final PrintStream out;
    private final PrintStream err;
    private final Path workingDirectory;
    private final List<Process> processes = new ArrayList<>();
    private String stopReason;
    private Long stopDeadline;   // set by stop(), taken by run()'s loop
    private int stopSignals;

    public Launcher(List<Child> children, Settings settings, PrintStream out, PrintStream err, Path workingDirectory) {
        if (children.isEmpty()) {
            throw new IllegalArgumentException("nothing to launch");
        }
        this.children = List.copyOf(children);
        this.settings = settings;
        this.out = out;
        this.err = err;
        this.workingDirectory = workingDirectory;
    }

    /** The children of a plan: each runs {@code command} with its environment from {@code base}. */
    public static List<Child> children(LaunchPlan plan, ChildCommand command, Map<String, String> base, long launcherPid) {
        List<Child> list = new ArrayList<>();
        List<Map<String, String>> envs = plan.childEnvironments(base, launcherPid);
        for (int local = 0; local < envs.size(); local++) {
            list.add(new Child(plan.topology().globalRank(local), command.commandLine(), envs.get(local)));
        }
        return list;
    }

    /**
     * Asks every child to stop: SIGTERM now ({@link ProcessHandle#destroy()} on Linux), a kill after {@link Settings#stopWait}.
     * Thread-safe (signal handlers call it); a second call kills at once, as a second Ctrl-C does.
     */
    public synchronized void stop(String why) {
        stopSignals++;
        long now = System.nanoTime();
        if (stopReason == null) {
            stopReason = why;
            stopDeadline = now + settings.stopWait().toNanos();
            err.println("launcher: " + why + ": asking every rank to stop (SIGTERM; killed after "
                    + seconds(settings.stopWait()) + ")");
        } else if (stopSignals == 2) {
            stopDeadline = now;
            err.println("launcher: " + why + " again: killing every rank");
        }
        for (Process p : processes) {
            terminate(p);
        }
    }

    /**
     * Starts every child and waits until all have ended.
     *
     * @return the launch's exit code ({@link LaunchResult}); its error line, if any, is already printed
     * @throws IOException when a child cannot be started (those already started are killed)
     */
    public int run() throws IOException, InterruptedException {
        BlockingQueue<Exited> exits = new LinkedBlockingQueue<>();
        List<LineForwarder> forwarders = new ArrayList<>();
        Map<Integer, String> killed = new HashMap<>();
        List<LaunchResult.ChildExit> order = new ArrayList<>();
        try {
            start(exits, forwarders);
            Long killAt = null;     // System.nanoTime() values; null: not armed
            String killWhy = null;
            Long giveUpAt = null;
            LaunchResult.ChildExit firstFailure = null;
            while (order.size() < children.size()) {
                long now = System.nanoTime();
                if (giveUpAt != null && now - giveUpAt >= 0) {
                    recordUnended(order, killed);
                    break;
                }
                Long stopAt = takeStopDeadline();
                if (stopAt != null && (killAt == null || stopAt - killAt < 0)) {
                    killAt = stopAt;
                    killWhy = "still running " + seconds(settings.stopWait()) + " after SIGTERM";
                }
                if (killAt != null && now - killAt >= 0) {
                    killRunning(killed, killWhy);
                    killAt = null;
                    giveUpAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KILLED_EXIT_MILLIS);
                }
                long wait = TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS);
                if (killAt != null) {
                    wait = Math.min(wait, Math.max(0, killAt - now));
                }
                Exited e = exits.poll(wait, TimeUnit.NANOSECONDS);
                if (e == null) {
                    continue;
                }
                LaunchResult.ChildExit exit = new LaunchResult.ChildExit(e.rank(), e.code());
                order.add(exit);
                if (firstFailure == null && exit.code() != 0 && exit.code() != LaunchResult.STOPPED) {
                    firstFailure = exit;
                    if (order.size() < children.size() && !killed.containsKey(exit.rank())) {
                        err.println("launcher: rank " + exit.rank() + " exited with code " + exit.code()
                                + "; the other ranks get " + seconds(settings.failureGrace()) + " to end, then are killed");
                    }
                    long graceEnd = System.nanoTime() + settings.failureGrace().toNanos();
                    if (giveUpAt == null && (killAt == null || graceEnd - killAt < 0)) {
                        killAt = graceEnd;
                        killWhy = "still running " + seconds(settings.failureGrace()) + " after rank " + exit.rank() + " failed";
                    }
                }
            }
        } finally {
            killRunning(killed, "the launcher is ending");
        }
        for (LineForwarder f : forwarders) {
            f.await(OUTPUT_DRAIN_MILLIS);
        }
        LaunchResult result = LaunchResult.compose(order, killed);
        if (result.error() != null) {
            err.println("error: " + result.error());
        }
        return result.exitCode();
    }

    private void start(BlockingQueue<Exited> exits, List<LineForwarder> forwarders) throws IOException {
        for (Child child : children) {
            ProcessBuilder pb = new ProcessBuilder(child.command()).directory(workingDirectory.toFile());
            pb.environment().clear();
            pb.environment().putAll(child.environment());
            Process p;
            synchronized (this) {
                p = pb.start();
                processes.add(p);
                if (stopReason != null) {
                    terminate(p);   // a stop that came while the children were starting reaches this one too
                }
            }
            forwarders.add(LineForwarder.start(child.rank(), p.getInputStream(), out));
            forwarders.add(LineForwarder.start(child.rank(), p.getErrorStream(), err));
            p.getOutputStream().close();
            int rank = child.rank();
            p.onExit().thenAccept(done -> exits.add(new Exited(rank, done.exitValue())));
        }
    }

    /**
     * A child that has not ended even after SIGKILL (a process stuck in the kernel): the launcher stops waiting for it and
     * counts it as killed (137, what a SIGKILLed process reports), so the launch still ends, and fails.
     */
    private void recordUnended(List<LaunchResult.ChildExit> order, Map<Integer, String> killed) {
        for (Child child : children) {
            if (order.stream().noneMatch(e -> e.rank() == child.rank())) {
                err.println("launcher: rank " + child.rank() + " has not ended after SIGKILL; no longer waiting for it");
                killed.merge(child.rank(), "did not end after SIGKILL", (a, b) -> a + "; " + b);
                order.add(new LaunchResult.ChildExit(child.rank(), KILLED_CODE));
            }
        }
    }

    /** The deadline the last {@link #stop} set, once; null when there is none new. */
    private synchronized Long takeStopDeadline() {
        Long d = stopDeadline;
        stopDeadline = null;
        return d;
    }

    /** destroyForcibly every child still running, recording why; then waits (bounded) for them to be gone. */
    private void killRunning(Map<Integer, String> killed, String why) throws InterruptedException {
        List<Process> running = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < processes.size(); i++) {
                Process p = processes.get(i);
                if (p.isAlive()) {
                    killed.putIfAbsent(children.get(i).rank(), why);
                    err.println("launcher: killing rank " + children.get(i).rank() + ": " + why);
                    p.toHandle().destroyForcibly();
                    running.add(p);
                }
            }
        }
        for (Process p : running) {
            p.waitFor(KILLED_EXIT_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * SIGTERM through the {@link ProcessHandle}: {@link Process#destroy()} sends it too but also closes the pipes, and the
     * child's last lines (its checkpoint, its "stopped" line) would be lost.
     */
    private static void terminate(Process p) {
        if (p.isAlive()) {
            p.toHandle().destroy();
        }
    }

    private static String seconds(Duration d) {
        return d.toSeconds() + " s";
    }
}
