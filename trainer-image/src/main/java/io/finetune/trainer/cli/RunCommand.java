package io.finetune.trainer.cli;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code run <FineTuneJob.yaml> [--output DIR] [--force-new]}: trains the job on this machine; sources and destination may
 * be any storage the trainer reads. Resumes from the latest checkpoint in the output when the same job wrote it.
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

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(manifest)) {
            throw new UsageException("run: manifest " + manifest + " does not exist");
        }
        RunSpec spec = RunSpecReader.readFile(manifest);
        Path output = this.output != null ? this.output : TrainingRun.defaultOutput(spec);
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
}
