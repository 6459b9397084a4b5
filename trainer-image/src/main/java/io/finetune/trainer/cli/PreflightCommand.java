package io.finetune.trainer.cli;

import io.finetune.api.PreflightResult;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.plan.ByteQuantity;
import io.finetune.trainer.preflight.Preflight;
import io.finetune.trainer.preflight.PreflightPod;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.storage.Storage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code preflight <FineTuneJob.yaml> [--gpu-memory 80Gi]}: the checks on this machine, the verdict printed as JSON. Without
 * arguments it is the operator's preflight pod ({@link PreflightPod}). Exit code 0 when the job passed, 1 when it did not.
 */
@Command(name = "preflight", description = {"CPU checks before a GPU is held: data, targetModules, memory, storage.",
    "Prints the verdict as JSON; exit 1 when it fails. Without arguments: the operator's preflight pod."})
final class PreflightCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "<FineTuneJob.yaml>", description = "the job's manifest")
    Path manifest;

    @Option(names = "--gpu-memory", paramLabel = "80Gi",
            description = "the GPU's memory to plan for (without it, memory is not checked)")
    String gpuMemory;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        if (manifest == null && gpuMemory == null) {
            return PreflightPod.inPod(System.getenv(), out);
        }
        if (manifest == null) {
            throw new UsageException("preflight: expected exactly one FineTuneJob manifest, got []");
        }
        if (!Files.isRegularFile(manifest)) {
            throw new UsageException("preflight: manifest " + manifest + " does not exist");
        }
        RunSpec spec = RunSpecReader.readFile(manifest);
        Long gpu = null;
        if (gpuMemory != null) {
            try {
                gpu = ByteQuantity.parse(gpuMemory);
            } catch (IllegalArgumentException e) {
                throw new UsageException("preflight: --gpu-memory: " + e.getMessage());
            }
        }
        Path scratch = Files.createTempDirectory("finetune-preflight");
        PreflightResult r;
        try (Storage storage = Storage.fromEnvironment(scratch.resolve("cache"))) {
            r = Preflight.check(spec, storage, scratch, gpu, PreflightPod.NO_GPU_MEMORY);
        }
        out.println(r.toJson());
        if (!r.passed()) {
            System.err.println("error: preflight failed: " + r.reason() + ": " + r.message());
        }
        return r.passed() ? 0 : 1;
    }
}
