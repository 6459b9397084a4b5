package io.finetune.trainer.run;

import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.storage.Manifest;
import io.finetune.trainer.storage.PublishedArtifact;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.train.Inputs;
import io.finetune.trainer.train.JobRunner;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A job run with its inputs and outputs in storage (any scheme): fetch sources, resume from the newest checkpoint at the
 * destination, train in a local work directory while publishing each checkpoint to {@code <destination>/checkpoints/},
 * then publish the output directory (files first, manifest.json last). Used by the {@code run} and {@code pod} commands.
 */
public final class StagedRun {
    /** What the run produced: the training summary and the artifact as published (digest = sha256 of its manifest). */
    public record Result(TrainingSummary summary, PublishedArtifact artifact) {
    }

    private StagedRun() {
    }

    /**
     * @param output local work directory for the output (may be the destination itself for a file:// destination)
     * @param extra  hooks of the caller (progress); checkpoint publishing is added here
     */
    public static Result run(FineTuneJob job, Storage storage, Path output, PrintStream log, TrainingHooks extra)
            throws IOException {
        String destination = job.getSpec().output.destination;
        boolean inPlace = isSameDirectory(destination, output);
        Inputs inputs = StorageInputs.fetch(storage, job.getSpec());
        Files.createDirectories(output);
        if (!inPlace) {
            // Listing the destination first also fails fast on a wrong bucket or credentials, before hours of training.
            Optional<Path> remote = storage.fetchLatestCheckpoint(destination);
            if (remote.isPresent() && Checkpoints.latest(output).isEmpty()) {
                Path local = restore(remote.get(), output);
                log.printf("restored checkpoint %s from %s%n", local.getFileName(), destination);
            }
        }
        TrainingHooks hooks = new TrainingHooks() {
            @Override
            public void started(int startStep, int totalSteps, double stepsPerEpoch) {
                extra.started(startStep, totalSteps, stepsPerEpoch);
            }

            @Override
            public void stepDone(int done, double loss, double learningRate, long tokens) {
                extra.stepDone(done, loss, learningRate, tokens);
            }

            @Override
            public void checkpointSaved(Path checkpointDir) throws IOException {
                if (!inPlace) {
                    storage.publishCheckpoint(checkpointDir, destination);
                }
                extra.checkpointSaved(checkpointDir);
            }
        };
        TrainingSummary summary = JobRunner.run(job, inputs, output, log, null, hooks);
        PublishedArtifact artifact = storage.publish(output, destination);
        log.printf("published %s (%d files, %d bytes) digest %s%n", artifact.uri(), artifact.files().size(),
                artifact.sizeBytes(), artifact.digest());
        return new Result(summary, artifact);
    }

    /** Copies a fetched checkpoint into {@code <output>/checkpoints/step-N} (N from its trainer_state.json). */
    static Path restore(Path fetched, Path output) throws IOException {
        int step = Checkpoints.readState(fetched).step();
        Path target = output.resolve(Checkpoints.DIR).resolve("step-" + step);
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(fetched)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!f.getFileName().toString().equals(Manifest.FILE_NAME)) {
                    Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return target;
    }

    /** A file:// destination that is the work directory itself: checkpoints are already there. */
    static boolean isSameDirectory(String destination, Path output) {
        try {
            URI u = URI.create(destination);
            if (!"file".equals(u.getScheme()) || u.getPath() == null) {
                return false;
            }
            return Path.of(u.getPath()).toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize());
        } catch (IllegalArgumentException e) {
            throw new StorageException(StorageException.Reason.INVALID_URI, destination, "not a valid URI", e);
        }
    }
}
