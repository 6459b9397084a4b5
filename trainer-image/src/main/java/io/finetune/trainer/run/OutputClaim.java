package io.finetune.trainer.run;

import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageUri;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.layout.FileTrees;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A run's hold on its output locations, taken before anything is loaded: the work directory and the destination must be
 * empty or this run's (else refused, or moved aside with --force-new), the destination must be writable, and the newest
 * checkpoint published there is restored into the work directory.
 * <p>
 * The check writes no identity: a run binds an output to itself only once it holds something to protect, a checkpoint
 * (its {@value RunLayout#RUN_IDENTITY} goes into every checkpoint) or the artifact (the root marker is written with it).
 * So a run that fails on a bad input leaves its outputs as it found them, and the fixed rerun is not refused as another
 * run's: {@link #afterFailure} removes the directories this run created, if they are still empty.
 */
final class OutputClaim {
    /** Directories this run created and the nearest ancestor of each that existed before (never removed). */
    private record Created(Path dir, Path existingAncestor) {
        static Optional<Created> ifMissing(Path dir) {
            Path abs = dir.toAbsolutePath().normalize();
            if (Files.exists(abs)) {
                return Optional.empty();
            }
            Path p = abs.getParent();
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            return Optional.of(new Created(abs, p));
        }
    }

    private final Path output;
    private final RunIdentity identity;
    private final List<Created> created;

    private OutputClaim(Path output, RunIdentity identity, List<Created> created) {
        this.output = output;
        this.identity = identity;
        this.created = created;
    }

    /**
     * Checks both locations (a destination that is the work directory itself is checked once), probes that the
     * destination is writable (a wrong bucket or credentials fail here, before hours of training; the probe is deleted
     * again) and restores the destination's newest checkpoint.
     */
    static OutputClaim take(Storage storage, String destination, Path output, boolean inPlace, RunIdentity identity,
                            TrainingRun.Options options, PrintStream log) throws IOException {
        List<Created> created = new ArrayList<>();
        checkLocal(output, identity, options, log);
        if (!inPlace) {
            checkDestination(storage, destination, identity, options, log);
        }
        Created.ifMissing(output).ifPresent(created::add);
        if (!inPlace) {
            Optional<Path> localDestination = storage.localPath(destination);
            if (localDestination.isPresent()) {
                Created.ifMissing(localDestination.get()).ifPresent(created::add);
            }
            storage.checkWritable(destination);
            Optional<Path> remote = storage.fetchLatestCheckpoint(destination);
            if (remote.isPresent() && Checkpoints.latest(output).isEmpty()) {
                Path local = restore(remote.get(), output);
                log.printf("restored checkpoint %s from %s%n", local.getFileName(), destination);
            }
        }
        return new OutputClaim(output, identity, created);
    }

    /**
     * After a failed run: removes each directory this run created that still holds no file (nothing to protect), and the
     * empty parents it created with it; a directory that existed before the run is never removed. A work directory that
     * does hold files now (a checkpoint, part of the output written before the failure) holds something to protect: it
     * gets the root marker, so a rerun of the same job continues it and no other run overwrites it.
     */
    void afterFailure(PrintStream log) {
        removeWhatIsStillEmpty(log);
        try {
            if (Files.isDirectory(output) && holdsAFile(output) && !Files.exists(RunLayout.of(output).identity())) {
                identity.write(output);
            }
        } catch (IOException e) {
            log.printf("could not mark %s as this run's: %s%n", output, e);
        }
    }

    private void removeWhatIsStillEmpty(PrintStream log) {
        for (Created c : created) {
            try {
                if (!Files.isDirectory(c.dir()) || holdsAFile(c.dir())) {
                    continue;
                }
                FileTrees.deleteTree(c.dir());
                for (Path p = c.dir().getParent(); p != null && !Objects.equals(p, c.existingAncestor()) && isEmptyDir(p);
                     p = p.getParent()) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                log.printf("could not remove the empty output directory %s: %s%n", c.dir(), e);
            }
        }
    }

    private static boolean holdsAFile(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.anyMatch(p -> !Files.isDirectory(p));
        }
    }

    private static boolean isEmptyDir(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        }
    }

    /** The local work directory: empty, or this run's; else refused (or moved aside with --force-new). */
    private static void checkLocal(Path output, RunIdentity identity, TrainingRun.Options options, PrintStream log)
            throws IOException {
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
    private static void checkDestination(Storage storage, String destination, RunIdentity identity,
                                         TrainingRun.Options options, PrintStream log) throws IOException {
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
                && !Objects.equals(found.jobUid(), identity.jobUid())) {
            log.printf("%s was written by an earlier %s with the same spec; continuing it%n", location, found.owner());
        }
    }

    /** Copies a fetched checkpoint into {@code <output>/checkpoints/step-N} (N from its trainer state). */
    static Path restore(Path fetched, Path output) throws IOException {
        int step = Checkpoints.readState(fetched).step();
        Path target = RunLayout.of(output).checkpoint(step);
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(fetched)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!f.getFileName().toString().equals(RunLayout.MANIFEST)) {
                    Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return target;
    }
}
