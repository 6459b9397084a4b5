package io.finetune.trainer.distributed;

import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A launched rank stops when its launcher is gone. The launcher ({@code run --nproc N}, a pod with several processes) owns
 * the signals and forwards SIGTERM; a launcher that is itself SIGKILLed (or dies) forwards nothing, and its children would
 * train on as orphans that nobody waits for. So each child watches the pid in {@link LaunchPlan#LAUNCHER_PID} and, when that
 * process ends, asks for the same stop as SIGTERM: every rank stops after the same step (the stop is agreed), rank 0
 * checkpoints, all exit 75, and the rerun resumes. In a pod the container's end kills every process anyway; this is for
 * the launches nothing else cleans up.
 */
public final class LauncherWatch {
    private LauncherWatch() {
    }

    /**
     * Watches the launcher named by {@code env} (nothing without {@link LaunchPlan#LAUNCHER_PID}); {@code stop} gets the
     * reason once, when it ends (at once when it is already gone). Returns whether a launcher is watched.
     */
    public static boolean start(Map<String, String> env, Consumer<String> stop) {
        String value = env.get(LaunchPlan.LAUNCHER_PID);
        if (value == null || !value.matches("\\d{1,18}")) {
            return false;
        }
        long pid = Long.parseLong(value);
        String why = "the launcher (pid " + pid + ") ended";
        Optional<ProcessHandle> launcher = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (launcher.isEmpty()) {
            stop.accept(why);
            return true;
        }
        // onExit polls a process that is not our child; a daemon thread, so it never keeps the JVM alive
        launcher.get().onExit().thenRun(() -> stop.accept(why));
        return true;
    }
}
