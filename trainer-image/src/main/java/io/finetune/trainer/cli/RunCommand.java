package io.finetune.trainer.cli;

import io.finetune.trainer.distributed.LaunchPlan;
import io.finetune.trainer.distributed.NodeTopology;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code run <FineTuneJob.yaml> [--output DIR] [--force-new] [--nproc N]}: trains the job on this machine; sources and
 * destination may be any storage the trainer reads. Resumes from the latest checkpoint in the output when the same job
 * wrote it. With {@code --nproc N > 1} this process launches N ranks ({@link Launch}), each
 * {@code run <job> --output <the same directory>}, which train data-parallel on Gloo over 127.0.0.1; rank 0 owns the output.
 */
@Command(name = "run", description = {"Train the job on this machine.",
    "Resumes from the latest checkpoint in the output when the same job with the same spec wrote it."})
final class RunCommand implements Callable<Integer> {
    @Parameters(paramLabel = "<FineTuneJob.yaml>", description = "the job's manifest")
    Path manifest;

    @Option(names = "--output", paramLabel = "DIR",
            description = "where to write (default: spec.output.destination when it is file://, else out/<job name>)")
    Path output;

    @Option(names = "--force-new",
            description = "move an output directory holding another run's files aside (never deletes)")
    boolean forceNew;

    @Option(names = "--nproc", paramLabel = "N", defaultValue = "1",
            description = "train with N data-parallel processes on this machine (Gloo over 127.0.0.1, cores split among them;"
                    + " default 1: this process trains)")
    int nproc;

    @ParentCommand
    TrainerCli cli;

    @Override
    public Integer call() throws Exception {
        if (nproc < 1) {
            throw new UsageException("run: --nproc " + nproc + " must be at least 1");
        }
        if (nproc > 1 && LaunchPlan.startedByLauncher(System.getenv())) {
            throw new UsageException("run: --nproc " + nproc + " in a process a launcher started (RANK/WORLD_SIZE or "
                    + LaunchPlan.LAUNCHER_PID + " is set): drop --nproc, the launcher already chose the processes");
        }
        if (!Files.isRegularFile(manifest)) {
            throw new UsageException("run: manifest " + manifest + " does not exist");
        }
        RunSpec spec = RunSpecReader.readFile(manifest);
        Path output = this.output != null ? this.output : TrainingRun.defaultOutput(spec);
        if (nproc > 1) {
            return Launch.children(cli == null ? null : cli.program, NodeTopology.standalone(nproc),
                    LaunchPlan.ThreadBudget.PER_PROCESS_WHEN_SET, childArguments(output), System.getenv(),
                    spec.collectiveTimeout());
        }
        var result = TrainingRun.local(spec, output, System.out, new TrainingRun.Options(forceNew, true),
                TrainingRun.AfterTraining.NONE);
        var summary = result.summary();
        if (summary.gate() != null && !summary.gate().passed()) {
            System.err.println("error: evaluation gate failed: " + summary.gate().message() + "; the output is kept for inspection in "
                    + RunLayout.of(output.toAbsolutePath()).rejected());
            return 1;
        }
        System.out.printf("done: eval loss %.4f -> %.4f, %d steps, %.0f tok/s; output in %s%n", summary.evalLossBefore(),
                summary.evalLossAfter(), summary.steps(), summary.tokensPerSecond(), output.toAbsolutePath());
        return 0;
    }

    /**
     * What each rank runs: this job and the same output for every rank (absolute, so no rank resolves them elsewhere),
     * {@code --force-new} and {@code --debug} as given here.
     */
    List<String> childArguments(Path output) {
        boolean debug = cli != null && cli.debug;
        List<String> args = new ArrayList<>(List.of("run", manifest.toAbsolutePath().toString(),
                "--output", output.toAbsolutePath().toString()));
        if (forceNew) {
            args.add("--force-new");
        }
        if (debug) {
            args.add("--debug");
        }
        return args;
    }
}
