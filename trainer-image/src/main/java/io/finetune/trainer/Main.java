package io.finetune.trainer;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.trainer.cli.Args;
import io.finetune.trainer.cli.InitModel;
import io.finetune.trainer.cli.NativeAllocator;
import io.finetune.trainer.cli.Quickstart;
import io.finetune.trainer.cli.Threads;
import io.finetune.trainer.cli.UsageException;
import io.finetune.trainer.data.DatasetException;
import io.finetune.trainer.io.SafetensorsException;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.plan.PlanCommand;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.train.JobRunner;
import io.finetune.trainer.train.StopRequest;
import io.finetune.trainer.train.TrainingStoppedException;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Trainer CLI: {@code run <FineTuneJob.yaml> [--output DIR]}, {@code init-model --preset tiny --seed S --output DIR},
 * {@code quickstart}. Bad input exits 2 with one clear line; an unexpected failure exits 1 with its stack trace; SIGTERM
 * during training exits 75 after a checkpoint at the step reached (the same command resumes there).
 */
public final class Main {
    static final String USAGE = """
            usage: java -jar finetune-trainer.jar <command>
              run <FineTuneJob.yaml> [--output DIR]        train the job on this machine (file:// sources)
              init-model --preset tiny|small --seed S --output DIR
                                                           write a random-init LLaMA model in Hugging Face layout
              quickstart                                   tiny model + generated task, LoRA, eval loss and samples before/after
              pod                                          in a Kubernetes pod: the job from $FINETUNE_CONFIG (set by the operator)
            """ + PlanCommand.USAGE;

    private Main() {
    }

    public static void main(String[] args) {
        Threads.configure();
        NativeAllocator.configure();
        StopRequest.installSignalHandler();   // SIGTERM: checkpoint at the next step boundary, then exit 75
        System.exit(execute(args));
    }

    static int execute(String[] args) {
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
                case "help", "--help", "-h" -> {
                    System.out.print(USAGE);
                    yield 0;
                }
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (TrainingStoppedException e) {
            System.err.println("stopped: " + e.getMessage());
            return TrainerResult.PREEMPTED_EXIT_CODE;
        } catch (UsageException e) {
            System.err.println("error: " + e.getMessage());
            System.err.print(USAGE);
            return 2;
        } catch (ModelException | DatasetException | SafetensorsException
                 | StorageException
                 | IllegalArgumentException | UnsupportedOperationException | java.nio.file.NoSuchFileException e) {
            System.err.println("error: " + (e instanceof java.nio.file.NoSuchFileException ? "no such file: " : "")
                    + e.getMessage());
            return 2;
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
    }

    private static int run(String[] argv) throws Exception {
        Args a = Args.parse("run", argv, 1, Set.of("output"));
        if (a.positional().size() != 1) {
            throw new UsageException("run: expected exactly one FineTuneJob manifest, got " + a.positional());
        }
        Path manifest = Path.of(a.positional().get(0));
        if (!Files.isRegularFile(manifest)) {
            throw new UsageException("run: manifest " + manifest + " does not exist");
        }
        FineTuneJob job = FineTuneJobManifest.read(manifest);
        Path output = a.options().containsKey("output") ? Path.of(a.options().get("output")) : JobRunner.defaultOutput(job);
        var result = io.finetune.trainer.run.LocalRun.run(job, output, System.out);
        var summary = result.summary();
        System.out.printf("done: eval loss %.4f -> %.4f, %d steps, %.0f tok/s; output in %s%n", summary.evalLossBefore(),
                summary.evalLossAfter(), summary.steps(), summary.tokensPerSecond(), output.toAbsolutePath());
        return 0;
    }
}
