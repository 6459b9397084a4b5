package io.finetune.trainer.preflight;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.PreflightResult;
import io.finetune.api.TrainerContract;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.pod.PodEnvironment;
import io.finetune.trainer.pod.SecretRedactor;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageEnvironment;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The operator's preflight pod ({@code preflight} without arguments): the job comes from FINETUNE_CONFIG, the GPU size from
 * FINETUNE_GPU_MEMORY_BYTES (or the reason it is unknown from FINETUNE_GPU_MEMORY_NOTE), and the verdict goes to the
 * termination log as a {@link PreflightResult}. Exit code 0 when the job passed, 1 when it did not.
 */
public final class PreflightPod {
    public static final String GPU_MEMORY_BYTES = TrainerContract.Env.GPU_MEMORY_BYTES;
    public static final String GPU_MEMORY_NOTE = TrainerContract.Env.GPU_MEMORY_NOTE;
    public static final String NO_GPU_MEMORY = "GPU memory unknown (no spec.resources.gpuMemory, no --gpu-memory): memory not checked";

    private PreflightPod() {
    }

    /** Pod mode: exactly one termination message whatever happens, secrets redacted. */
    public static int inPod(Map<String, String> env, PrintStream out) {
        SecretRedactor redactor = SecretRedactor.fromEnv(env);
        String logPath = env.getOrDefault(PodEnvironment.TERMINATION_LOG, "");
        Path log = logPath.isBlank() ? PodEnvironment.DEFAULT_TERMINATION_LOG : Path.of(logPath.strip());
        PreflightResult r;
        try {
            Path config = Path.of(required(env, PodEnvironment.CONFIG));
            FineTuneJob job = FineTuneJobManifest.read(config);
            Path scratch = Path.of(env.getOrDefault(PodEnvironment.SCRATCH, "/tmp"));
            String bytes = env.get(GPU_MEMORY_BYTES);
            Long gpu = bytes == null || bytes.isBlank() ? null : Long.parseLong(bytes.strip());
            String note = env.getOrDefault(GPU_MEMORY_NOTE, NO_GPU_MEMORY);
            try (Storage storage = Storage.create(scratch.resolve("cache"), StorageEnvironment.fromEnv(env))) {
                r = Preflight.check(RunSpecReader.read(job), storage, scratch, gpu, note);
            }
        } catch (Exception | OutOfMemoryError e) {
            r = PreflightResult.failed(PreflightResult.Reason.PreflightError, e.getClass().getSimpleName() + ": " + e.getMessage(),
                    null);
        }
        String json = redactor.redact(r.toJson());
        out.println(json);
        try {
            Files.writeString(log, json);
        } catch (IOException e) {
            System.err.println("cannot write termination message to " + log + ": " + e.getMessage());
        }
        return r.passed() ? 0 : 1;
    }

    private static String required(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + " is not set (the operator mounts the job's ConfigMap at /etc/finetune)");
        }
        return v;
    }
}
