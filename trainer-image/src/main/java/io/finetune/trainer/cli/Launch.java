package io.finetune.trainer.cli;

import io.finetune.api.TrainerResult;
import io.finetune.trainer.distributed.ChildCommand;
import io.finetune.trainer.distributed.LaunchPlan;
import io.finetune.trainer.distributed.LaunchResult;
import io.finetune.trainer.distributed.Launcher;
import io.finetune.trainer.distributed.LauncherSignals;
import io.finetune.trainer.distributed.NodeTopology;
import io.finetune.trainer.train.StopRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code run --nproc N} and a pod with several processes: this node's ranks started as children running the trainer's
 * {@code Main} with the given arguments ({@link Launcher}), while this process only forwards their output and signals and
 * composes their exit codes.
 */
final class Launch {
    /**
     * How long a rank waits for a collective before it fails. The launcher's bound after a failure is this plus
     * {@link #MARGIN}: long enough for every other rank to notice the broken collective and print its own error.
     */
    static final Duration COLLECTIVE_TIMEOUT = Duration.ofMinutes(5);
    static final Duration MARGIN = Duration.ofSeconds(30);

    private Launch() {
    }

    /** Settings for a run whose collectives time out after {@code collectiveTimeout}. */
    static Launcher.Settings settings(Duration collectiveTimeout) {
        Duration bound = collectiveTimeout.plus(MARGIN);
        return new Launcher.Settings(bound, bound);   // a stop is agreed through a collective too
    }

    /**
     * Launches and waits.
     *
     * @param program        the class whose main the children run (the trainer's {@code Main}, see {@link TrainerCli#program})
     * @param childArguments the trainer command each child runs
     * @param collectiveTimeout the job's spec.resources.collectiveTimeoutSeconds: the launcher's bounds follow it
     * @return the exit code for this process
     */
    static int children(Class<?> program, NodeTopology topology, LaunchPlan.ThreadBudget budget, List<String> childArguments,
                        Map<String, String> env, Duration collectiveTimeout) throws Exception {
        if (program == null) {
            throw new IllegalStateException("this command line was started without its program's main class; it cannot launch");
        }
        if (StopRequest.process().isRequested()) {   // a SIGTERM before the launcher took the signals over
            System.err.println("stopped: " + StopRequest.process().reason() + " before the ranks were started");
            return TrainerResult.PREEMPTED_EXIT_CODE;
        }
        LaunchPlan plan = LaunchPlan.resolve(topology, env, Runtime.getRuntime().availableProcessors(), budget);
        ChildCommand command = ChildCommand.ofThisJvm(program.getName(), childArguments);
        Launcher launcher = new Launcher(Launcher.children(plan, command, env, ProcessHandle.current().pid()),
                settings(collectiveTimeout), System.out, System.err, Path.of("").toAbsolutePath());
        System.out.println(plan.describe());
        int code;
        try (LauncherSignals signals = LauncherSignals.install(launcher)) {
            code = launcher.run();
        }
        if (code == LaunchResult.STOPPED) {
            System.err.println("stopped: every rank stopped after a checkpoint (run the same command to resume)");
        }
        return code;
    }
}
