package io.finetune.trainer.run;

import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.storage.Manifest;
import io.finetune.trainer.storage.PublishedArtifact;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.storage.StorageUri;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.train.Inputs;
import io.finetune.trainer.train.JobRunner;
import io.finetune.trainer.train.RunIdentity;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
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
     * How a run treats what it finds at its output locations.
     *
     * @param jobUid         the FineTuneJob's uid where there is one (pod mode), recorded with every checkpoint
     * @param forceNew       move a local output directory holding another run's files aside instead of refusing
     * @param forceNewOffered whether the refusal may suggest --force-new (the CLI has it, the pod does not)
     */
    public record Options(String jobUid, boolean forceNew, boolean forceNewOffered) {
        public static final Options DEFAULT = new Options(null, false, true);
    }

    /**
     * @param output local work directory for the output (may be the destination itself for a file:// destination)
     * @param extra  hooks of the caller (progress); checkpoint publishing is added here
     */
    public static Result run(FineTuneJob job, Storage storage, Path output, PrintStream log, TrainingHooks extra)
            throws IOException {
        return run(job, storage, output, log, extra, Options.DEFAULT);
    }

    /** As above, with the caller's {@link Options}. */
    public static Result run(FineTuneJob job, Storage storage, Path output, PrintStream log, TrainingHooks extra,
                             Options options) throws IOException {
        String destination = job.getSpec().output.destination;
        boolean inPlace = isSameDirectory(destination, output);
        OutputSafety.check(job.getSpec(), output, storage::localPath);   // before anything is fetched or loaded
        Inputs inputs = StorageInputs.fetch(storage, job.getSpec());
        RunIdentity identity = RunIdentity.of(job, inputs, options.jobUid());
        claimLocal(output, identity, options, log);
        if (!inPlace) {
            claimDestination(storage, destination, identity, options, log);
        }
        Files.createDirectories(output);
        identity.write(output);
        if (!inPlace) {
            // Marks the destination as this run's before the first checkpoint lands there; also fails fast on a wrong
            // bucket or credentials, before hours of training.
            storage.uploadFile(output.resolve(RunIdentity.FILE_NAME), StorageUri.parse(destination)
                    .child(RunIdentity.FILE_NAME).raw());
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
                identity.write(checkpointDir);
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

    /** The local work directory: empty, or this run's; else refused (or moved aside with --force-new). */
    private static void claimLocal(Path output, RunIdentity identity, Options options, PrintStream log) throws IOException {
        var verdict = OutputOwnership.inspect(OutputOwnership.listLocal(output), rel -> Files.readAllBytes(output.resolve(rel)),
                identity, output.toString());
        if (verdict.state() == OutputOwnership.State.OTHER_RUN || verdict.state() == OutputOwnership.State.UNMARKED) {
            if (options.forceNew()) {
                Path aside = OutputOwnership.moveAside(output, Clock.systemUTC());
                log.printf("--force-new: moved %s aside to %s (nothing deleted)%n", output, aside);
                return;
            }
            OutputOwnership.requireWritable(verdict, identity, output.toString(), options.forceNewOffered());
        }
        logResume(verdict, identity, output.toString(), log);
    }

    /** A destination other than the work directory: empty, or this run's; a local one may be moved aside. */
    private static void claimDestination(Storage storage, String destination, RunIdentity identity, Options options,
                                         PrintStream log) throws IOException {
        StorageUri dest = StorageUri.parse(destination);
        var verdict = OutputOwnership.inspect(storage.listFiles(destination),
                rel -> storage.readSmallFile(dest.child(rel).raw()), identity, destination);
        if (verdict.state() == OutputOwnership.State.OTHER_RUN || verdict.state() == OutputOwnership.State.UNMARKED) {
            Optional<Path> local = storage.localPath(destination);
            if (options.forceNew() && local.isPresent()) {
                Path aside = OutputOwnership.moveAside(local.get(), Clock.systemUTC());
                log.printf("--force-new: moved %s aside to %s (nothing deleted)%n", destination, aside);
                return;
            }
            if (options.forceNew()) {
                throw new OutputSafety.UnsafeOutputException(destination + ": --force-new moves local directories aside only;"
                        + " " + dest.scheme().prefix() + ":// objects are never moved or deleted by the trainer: choose a new"
                        + " output destination");
            }
            OutputOwnership.requireWritable(verdict, identity, destination, options.forceNewOffered() && local.isPresent());
        }
        logResume(verdict, identity, destination, log);
    }

    private static void logResume(OutputOwnership.Verdict verdict, RunIdentity identity, String location, PrintStream log) {
        RunIdentity found = verdict.found().orElse(null);
        if (verdict.state() == OutputOwnership.State.SAME_RUN && found != null
                && !java.util.Objects.equals(found.jobUid(), identity.jobUid())) {
            log.printf("%s was written by an earlier %s with the same spec; continuing it%n", location, found.owner());
        }
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
