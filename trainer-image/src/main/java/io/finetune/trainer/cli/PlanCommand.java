package io.finetune.trainer.cli;

import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.plan.ByteQuantity;
import io.finetune.trainer.plan.MemoryPlan;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.storage.StorageUri;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code plan <FineTuneJob.yaml> [--device-memory 80Gi] [--device gpu|cpu] [--model-config PATH]}: prints the memory plan of
 * every method for the job's model, micro-batch and sequence length, and whether each fits. Exit code 0 when the job's own
 * method fits, 3 when it does not.
 */
@Command(name = "plan", description = {"Memory plan per method for the job, and whether each fits.",
    "From the model's config.json, the micro-batch and the sequence length; exit 3 if the job's own method",
    "does not fit."})
public final class PlanCommand implements Callable<Integer> {
    public static final String DEFAULT_DEVICE_MEMORY = "80Gi";
    public static final int DOES_NOT_FIT = 3;

    @Parameters(paramLabel = "<FineTuneJob.yaml>", description = "the job's manifest")
    Path manifest;

    @Option(names = "--device-memory", paramLabel = "80Gi", defaultValue = DEFAULT_DEVICE_MEMORY,
            description = "the device's memory (default: ${DEFAULT-VALUE})")
    String deviceMemory;

    @Option(names = "--device", paramLabel = "gpu|cpu", defaultValue = "gpu",
            description = "where the job trains (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--model-config", paramLabel = "config.json|DIR",
            description = "the model's config.json (default: from spec.model.source when it is file://)")
    String modelConfig;

    private final PrintStream out;

    PlanCommand() {
        this(System.out);
    }

    PlanCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(manifest)) {
            throw new UsageException("plan: manifest " + manifest + " does not exist");
        }
        if (!device.equals("gpu") && !device.equals("cpu")) {
            throw new UsageException("plan: --device must be gpu or cpu, got '" + device + "'");
        }
        long memory;
        try {
            memory = ByteQuantity.parse(deviceMemory);
        } catch (IllegalArgumentException e) {
            throw new UsageException("plan: --device-memory: " + e.getMessage());
        }
        RunSpec spec = RunSpecReader.readFile(manifest);
        Path config = configJson(spec, modelConfig);
        MemoryPlan plan = MemoryPlan.of(ModelConfig.readFile(config), spec.method(),
                PlanInputs.from(spec, device.equals("gpu")), memory);
        out.printf("FineTuneJob %s, model %s%n", spec.job().name(), config);
        out.print(plan.table());
        out.print(plan.perRank(spec.ranksPerPod()));
        boolean fits = plan.fits(spec.method().type());
        out.printf("%s %s in %s%n", spec.method().type(), fits ? "fits" : "does NOT fit",
                ByteQuantity.format(memory));
        return fits ? 0 : DOES_NOT_FIT;
    }

    /** --model-config (a config.json or a model directory), else spec.model.source when it is a local file:// URI. */
    static Path configJson(RunSpec spec, String override) {
        Path p;
        if (override != null) {
            p = Path.of(override);
        } else {
            String source = spec.sources().model();
            try {
                p = StorageUri.localFile(source);
            } catch (StorageException e) {
                throw new UsageException("plan: spec.model.source " + source + " is remote; the plan only needs its "
                        + "config.json: pass --model-config PATH");
            }
        }
        if (Files.isDirectory(p)) {
            p = p.resolve(ModelConfig.FILE_NAME);
        }
        if (!Files.isRegularFile(p)) {
            throw new UsageException("plan: " + p + " does not exist (expected the model's config.json)");
        }
        return p;
    }
}
