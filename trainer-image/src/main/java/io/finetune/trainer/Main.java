package io.finetune.trainer;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.trainer.cli.Args;
import io.finetune.trainer.cli.CudaProbe;
import io.finetune.trainer.cli.ErrorReport;
import io.finetune.trainer.cli.InitModel;
import io.finetune.trainer.cli.NativeAllocator;
import io.finetune.trainer.cli.Quickstart;
import io.finetune.trainer.cli.Threads;
import io.finetune.trainer.cli.UsageException;
import io.finetune.trainer.plan.PlanCommand;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.train.StopRequest;
import io.finetune.trainer.train.TrainingStoppedException;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Trainer CLI: {@code run <FineTuneJob.yaml> [--output DIR]}, {@code init-model --preset tiny --seed S --output DIR},
 * {@code quickstart}. Every failure ends in one {@code error:} line and an exit code by class ({@link ErrorReport}); SIGTERM
 * during training exits 75 after a checkpoint at the step reached (the same command resumes there).
 */
public final class Main {
    static final String USAGE = """
            usage: java -jar finetune-trainer.jar <command>
              run <FineTuneJob.yaml> [--output DIR] [--force-new]
                                                           train the job on this machine; --force-new moves an output
                                                           directory holding another run's files aside (never deletes)
              init-model --preset tiny|small --seed S --output DIR
                                                           write a random-init LLaMA model in Hugging Face layout
              quickstart                                   stories15M (else the tiny model) + a WordNet task, LoRA, eval loss and samples
              pod                                          in a Kubernetes pod: the job from $FINETUNE_CONFIG (set by the operator)
            """ + PlanCommand.USAGE + io.finetune.trainer.preflight.PreflightCommand.USAGE
            + io.finetune.trainer.llama2c.ImportLlama2c.USAGE + io.finetune.trainer.cli.Generate.USAGE + """
              --debug (or FINETUNE_DEBUG=1)                print the stack trace of a failure
            exit codes: 0 done, 1 internal error, 2 usage, 3 bad input (manifest, model, tokenizer, data, storage location,
            output), 4 resources (out of memory, disk full, storage unreachable)
            """;

    private Main() {
    }

    public static void main(String[] args) {
        CudaProbe.quietWithoutGpu();   // first: before anything logs
        Threads.configure();
        NativeAllocator.configure();
        StopRequest.installSignalHandler();   // SIGTERM: checkpoint at the next step boundary, then exit 75
        System.exit(execute(args));
    }

    static int execute(String[] argv) {
        boolean debug = ErrorReport.debugFromEnv(System.getenv());
        List<String> rest = new ArrayList<>();
        for (String a : argv) {
            if (a.equals("--debug")) {
                debug = true;
            } else {
                rest.add(a);
            }
        }
        String[] args = rest.toArray(String[]::new);
        try {
            if (args.length == 0) {
                throw new UsageException("missing command");
            }
            return switch (args[0]) {
                case "run" -> run(args);
                case "pod" -> io.finetune.trainer.pod.PodTraining.command();
                case "init-model" -> InitModel.command(args);
                case "quickstart" -> Quickstart.command(args);
                case "plan" -> PlanCommand.command(args, System.out);
                case "preflight" -> io.finetune.trainer.preflight.PreflightCommand.command(args, System.out);
                case "import-llama2c" -> io.finetune.trainer.llama2c.ImportLlama2c.command(args);
                case "generate" -> io.finetune.trainer.cli.Generate.command(args, System.out);
                case "help", "--help", "-h" -> {
                    System.out.print(USAGE);
                    yield 0;
                }
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (TrainingStoppedException e) {
            System.err.println("stopped: " + e.getMessage());
            return TrainerResult.PREEMPTED_EXIT_CODE;
        } catch (Throwable e) {   // OutOfMemoryError included: the user gets the one line, not a trace
            ErrorReport report = ErrorReport.of(e);
            int code = report.print(e, System.err, debug);
            if (report.exitClass() == ErrorReport.ExitClass.USAGE) {
                System.err.print(USAGE);
            }
            return code;
        }
    }

    private static int run(String[] argv) throws Exception {
        Args a = Args.parse("run", argv, 1, Set.of("output"), Set.of("force-new"));
        if (a.positional().size() != 1) {
            throw new UsageException("run: expected exactly one FineTuneJob manifest, got " + a.positional());
        }
        Path manifest = Path.of(a.positional().get(0));
        if (!Files.isRegularFile(manifest)) {
            throw new UsageException("run: manifest " + manifest + " does not exist");
        }
        FineTuneJob job = FineTuneJobManifest.read(manifest);
        Path output = a.options().containsKey("output") ? Path.of(a.options().get("output")) : TrainingRun.defaultOutput(job);
        var result = TrainingRun.local(job, output, System.out, new TrainingRun.Options(null, a.flag("force-new"), true),
                TrainingRun.AfterTraining.NONE);
        var summary = result.summary();
        if (summary.gate() != null && !summary.gate().passed()) {
            System.err.println("error: evaluation gate failed: " + summary.gate().message() + "; the output is kept for inspection in "
                    + output.toAbsolutePath().resolve(io.finetune.trainer.train.EvaluationGate.REJECTED_DIR));
            return 1;
        }
        System.out.printf("done: eval loss %.4f -> %.4f, %d steps, %.0f tok/s; output in %s%n", summary.evalLossBefore(),
                summary.evalLossAfter(), summary.steps(), summary.tokensPerSecond(), output.toAbsolutePath());
        return 0;
    }
}
