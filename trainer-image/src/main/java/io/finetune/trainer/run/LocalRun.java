package io.finetune.trainer.run;

import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.train.TrainingHooks;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** The {@code run} command's training: storage from this process's environment, downloads cached per user. */
public final class LocalRun {
    /** Overrides where downloads are cached (default ~/.cache/finetune-trainer). */
    public static final String CACHE_DIR = "FINETUNE_CACHE_DIR";

    private LocalRun() {
    }

    public static StagedRun.Result run(FineTuneJob job, Path output, PrintStream log) throws IOException {
        return run(job, output, log, StagedRun.Options.DEFAULT);
    }

    /** As above; {@code options.forceNew()} is the CLI's --force-new. */
    public static StagedRun.Result run(FineTuneJob job, Path output, PrintStream log, StagedRun.Options options)
            throws IOException {
        String cache = System.getenv(CACHE_DIR);
        Path cacheDir = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "finetune-trainer");
        try (Storage storage = Storage.fromEnvironment(cacheDir)) {
            return StagedRun.run(job, storage, output, log, TrainingHooks.NONE, options);
        }
    }
}
