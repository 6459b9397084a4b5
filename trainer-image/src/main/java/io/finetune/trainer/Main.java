package io.finetune.trainer;

import io.finetune.trainer.cli.TrainerCli;
import io.finetune.trainer.distributed.LaunchPlan;
import io.finetune.trainer.distributed.LauncherWatch;
import io.finetune.trainer.process.CudaProbe;
import io.finetune.trainer.process.NativeAllocator;
import io.finetune.trainer.process.Threads;
import io.finetune.trainer.train.StopRequest;

/**
 * The trainer's entry point: sets the process up ({@code runtime/}: logging, thread pools, the native allocator, the SIGTERM
 * handler), then runs the command line ({@link TrainerCli}: the commands, their errors and exit codes).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        CudaProbe.quietWithoutGpu();   // first: before anything logs
        Threads.configure();
        NativeAllocator.configure();
        // SIGTERM: checkpoint at the next step boundary, then exit 75. The one owner of the signals in a process that trains;
        // a launcher (run --nproc, pod with several processes) hands them to distributed.LauncherSignals while it runs.
        StopRequest.installSignalHandler(System.getenv(LaunchPlan.LAUNCHER_PID) != null);
        // a launched rank whose launcher died (SIGKILL forwards nothing) stops as on SIGTERM
        LauncherWatch.start(System.getenv(), why -> {
            System.err.println("stopping: " + why + "; this rank stops after the step every rank agrees on");
            StopRequest.process().request(why);
        });
        System.exit(execute(args));
    }

    static int execute(String[] argv) {
        return TrainerCli.execute(Main.class, argv);
    }
}
