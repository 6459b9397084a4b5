package io.finetune.trainer.run;

import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.run.OutputSafety.UnsafeOutputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Decides whether an output location (the local work directory or the destination) may be written by this run: it is
 * empty, or what is there was written by a run with the same identity (its {@value RunLayout#RUN_IDENTITY} at the root, else
 * in its newest checkpoint). Anything else is refused with a message naming whose it is, before anything is loaded, so a
 * job never resumes another job's checkpoint and never overwrites files it did not write.
 */
public final class OutputOwnership {
    /** Suffix of a directory moved aside by {@code --force-new}: {@code <dir>.superseded-<UTC time>}. */
    static final String SUPERSEDED = ".superseded-";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** Reads a file of the location by its relative path. */
    @FunctionalInterface
    public interface Reader {
        byte[] read(String relativePath) throws IOException;
    }

    /** What a location holds. */
    public enum State { EMPTY, SAME_RUN, OTHER_RUN, UNMARKED }

    /** The state, the identity found (OTHER_RUN, SAME_RUN) and a few of the files found (UNMARKED). */
    public record Verdict(State state, Optional<RunIdentity> found, List<String> files) {
    }

    private OutputOwnership() {
    }

    /** Classifies a location from its file listing (relative paths) and a reader for its markers. */
    public static Verdict inspect(List<String> files, Reader reader, RunIdentity current, String location) throws IOException {
        List<String> relevant = files.stream().filter(f -> !isLeftover(f)).sorted().toList();
        if (relevant.isEmpty()) {
            return new Verdict(State.EMPTY, Optional.empty(), List.of());
        }
        String marker = relevant.contains(RunLayout.RUN_IDENTITY) ? RunLayout.RUN_IDENTITY : null;
        long best = -1;
        for (String f : relevant) {
            Optional<RunLayout.CheckpointFile> c = RunLayout.outputCheckpointFile(f);
            if (marker == null && c.isPresent() && c.get().isIdentity() && c.get().step() > best) {
                best = c.get().step();
            }
        }
        if (marker == null && best >= 0) {
            marker = RunLayout.checkpointIdentityKey(best);
        }
        if (marker == null) {
            return new Verdict(State.UNMARKED, Optional.empty(), relevant.subList(0, Math.min(3, relevant.size())));
        }
        RunIdentity found = RunIdentity.parse(reader.read(marker), location + "/" + marker);
        return new Verdict(current.canResume(found) ? State.SAME_RUN : State.OTHER_RUN, Optional.of(found), List.of());
    }

    /** Throws {@link UnsafeOutputException} for OTHER_RUN and UNMARKED, naming whose it is and how to proceed. */
    public static void requireWritable(Verdict v, RunIdentity current, String location, boolean canMoveAside) {
        String howTo = canMoveAside
                ? "choose a new output destination, or pass --force-new to move the existing directory aside (nothing is"
                        + " deleted)"
                : "choose a new output destination, or move what is there away yourself";
        switch (v.state()) {
            case OTHER_RUN -> {
                RunIdentity other = v.found().orElseThrow();
                throw new UnsafeOutputException(location + " holds the checkpoint/output of " + other.owner() + ", trajectory "
                        + abbreviate(other.trajectory()) + "; this run is " + current.owner() + ", trajectory "
                        + abbreviate(current.trajectory()) + " (differs in: " + String.join(", ", current.differences(other))
                        + "). Resuming it would mix two trainings: " + howTo + ".");
            }
            case UNMARKED -> throw new UnsafeOutputException(location + " already holds files no training run of this"
                    + " trainer wrote (" + String.join(", ", v.files()) + (v.files().size() == 3 ? ", ..." : "")
                    + "); they would be overwritten: " + howTo + ".");
            default -> {
            }
        }
    }

    /** The relative paths of every regular file under a local directory (empty when it does not exist). */
    public static List<String> listLocal(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/')).toList();
        }
    }

    /** {@code --force-new}: renames {@code dir} to a sibling {@code <dir>.superseded-<UTC time>}; returns the new path. */
    public static Path moveAside(Path dir, Clock clock) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        Path target = abs.resolveSibling(abs.getFileName() + SUPERSEDED + STAMP.format(clock.instant()));
        for (int i = 2; Files.exists(target); i++) {
            target = abs.resolveSibling(abs.getFileName() + SUPERSEDED + STAMP.format(clock.instant()) + "-" + i);
        }
        Files.move(abs, target);
        return target;
    }

    /**
     * A hidden partial upload left by a killed copy (LocalStore's {@code .<name>.partial-<uuid>}) or a destination write
     * probe a killed run did not delete is nobody's output.
     */
    private static boolean isLeftover(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        return name.startsWith(".") && name.contains(".partial-") || RunLayout.isWriteProbe(name);
    }

    private static String abbreviate(String trajectory) {
        return trajectory.length() > 19 ? trajectory.substring(0, 19) + "..." : trajectory;
    }
}
