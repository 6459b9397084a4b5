package io.finetune.trainer.plan;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.cli.Args;
import io.finetune.trainer.cli.UsageException;
import io.finetune.trainer.train.Sources;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code plan <FineTuneJob.yaml> [--device-memory 80Gi] [--device gpu|cpu] [--model-config PATH]}: prints the memory plan of
 * every method for the job's model, micro-batch and sequence length, and whether each fits. Exit code 0 when the job's own
 * method fits, 3 when it does not.
 */
public final class PlanCommand {
    public static final String USAGE =
            "  plan <FineTuneJob.yaml> [--device-memory 80Gi] [--device gpu|cpu] [--model-config config.json|DIR]\n"
            + "                                               memory plan per method; exit 3 if the job's method does not fit\n";
    public static final String DEFAULT_DEVICE_MEMORY = "80Gi";
    public static final int DOES_NOT_FIT = 3;

    private PlanCommand() {
    }

    public static int command(String[] argv, PrintStream out) throws IOException {
        Args a = Args.parse("plan", argv, 1, Set.of("device-memory", "device", "model-config"));
        if (a.positional().size() != 1) {
            throw new UsageException("plan: expected exactly one FineTuneJob manifest, got " + a.positional());
        }
        Path manifest = Path.of(a.positional().get(0));
        if (!Files.isRegularFile(manifest)) {
            throw new UsageException("plan: manifest " + manifest + " does not exist");
        }
        String device = a.option("device", "gpu");
        if (!device.equals("gpu") && !device.equals("cpu")) {
            throw new UsageException("plan: --device must be gpu or cpu, got '" + device + "'");
        }
        long memory;
        try {
            memory = ByteQuantity.parse(a.option("device-memory", DEFAULT_DEVICE_MEMORY));
        } catch (IllegalArgumentException e) {
            throw new UsageException("plan: --device-memory: " + e.getMessage());
        }
        FineTuneJob job = FineTuneJobManifest.read(manifest);
        Path config = configJson(job, a.options().get("model-config"));
        MemoryPlan plan = MemoryPlan.of(ModelDimensions.read(config), job.getSpec().method,
                PlanInputs.from(job.getSpec(), device.equals("gpu")), memory);
        out.printf("FineTuneJob %s, model %s%n", job.getMetadata().getName(), config);
        out.print(plan.table());
        boolean fits = plan.fits(job.getSpec().method.type);
        out.printf("%s %s in %s%n", job.getSpec().method.type, fits ? "fits" : "does NOT fit",
                ByteQuantity.format(memory));
        return fits ? 0 : DOES_NOT_FIT;
    }

    /** --model-config (a config.json or a model directory), else spec.model.source when it is a local file:// URI. */
    static Path configJson(FineTuneJob job, String override) {
        Path p;
        if (override != null) {
            p = Path.of(override);
        } else {
            String source = job.getSpec().model.source;
            try {
                p = Sources.local(source, "spec.model.source");
            } catch (UnsupportedOperationException e) {
                throw new UsageException("plan: spec.model.source " + source + " is remote; the plan only needs its "
                        + "config.json: pass --model-config PATH");
            }
        }
        if (Files.isDirectory(p)) {
            p = p.resolve("config.json");
        }
        if (!Files.isRegularFile(p)) {
            throw new UsageException("plan: " + p + " does not exist (expected the model's config.json)");
        }
        return p;
    }
}
