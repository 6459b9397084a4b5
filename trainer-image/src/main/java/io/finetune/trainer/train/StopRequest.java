package io.finetune.trainer.train;

import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/**
 * A request to stop training at the next optimizer-step boundary, with a checkpoint: set by SIGTERM (what the kubelet sends
 * when a pod is deleted, evicted, preempted or its Job suspended) or by a test. The signal handler only sets the flag; the
 * training loop reads it between steps, so an accumulation window is never split and no half-updated weights are saved.
 */
public final class StopRequest {
    private static final StopRequest PROCESS = new StopRequest();

    private final AtomicReference<String> reason = new AtomicReference<>();

    /** The flag SIGTERM sets in this JVM (see {@link #installSignalHandler(boolean)}). */
    public static StopRequest process() {
        return PROCESS;
    }

    /** Asks the loop to stop; the first reason wins. */
    public void request(String why) {
        reason.compareAndSet(null, why);
    }

    public boolean isRequested() {
        return reason.get() != null;
    }

    /** Why the stop was requested, e.g. "SIGTERM"; null when it was not. */
    public String reason() {
        return reason.get();
    }

    /**
     * Replaces the JVM's SIGTERM handler (which would run shutdown hooks and exit at once, losing the steps since the last
     * periodic checkpoint) with one that sets {@link #process()}'s flag. Until the training loop starts, the process keeps
     * going and stops before its first step; a process past its last step finishes. Where the platform has no SIGTERM
     * (the handler cannot be installed) the JVM's default stays.
     *
     * @param interruptToo also for SIGINT: in a child of the trainer's launcher, whose terminal sends Ctrl-C to the launcher
     *                     and every child at once; the launcher answers it with SIGTERM to each child, so both mean "stop
     *                     after a checkpoint" there (elsewhere SIGINT keeps the JVM's default: exit at once)
     */
    public static boolean installSignalHandler(boolean interruptToo) {
        try {
            Signal.handle(new Signal("TERM"), sig -> PROCESS.request("SIGTERM"));
            if (interruptToo) {
                Signal.handle(new Signal("INT"), sig -> PROCESS.request("SIGINT"));
            }
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
