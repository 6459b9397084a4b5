package io.finetune.trainer.layout;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where everything of one run lives, under its output directory ({@code root}) and, with the same relative names, under its
 * destination; the one owner of these names, so the writer of a file and every reader of it (resume, ownership, publishing,
 * pruning, the operator's messages via the artifact URI) cannot disagree:
 * <pre>
 * &lt;output&gt;/
 *   run_identity.json            who wrote this output ({@code run.RunIdentity}); also inside every checkpoint
 *   manifest.json                written last by publishing: its presence means the upload is complete
 *   training_summary.json        losses, steps, memory (next to the method's files, so under rejected/ too)
 *   merged/                      LoRA with spec.output.merge: base + adapter as full weights
 *   rejected/                    a run that missed the evaluation gate: its output, never where a server loads it
 *   eval-best/                   local only: the best-eval weights while training (trainable.safetensors, best.json)
 *   checkpoints/step-N/          trainable.safetensors, optimizer.safetensors, trainer_state.json, run_identity.json
 *                                (+ manifest.json at a destination)
 * </pre>
 * Remote locations are keys relative to the destination ({@code StorageUri.child(key)}): this package depends on no other.
 */
public record RunLayout(Path root) {
    public static final String RUN_IDENTITY = "run_identity.json";
    public static final String MANIFEST = "manifest.json";
    public static final String SUMMARY = "training_summary.json";
    public static final String MERGED = "merged";
    public static final String REJECTED = "rejected";
    public static final String BEST_EVAL = "eval-best";
    public static final String BEST_EVAL_STATE = "best.json";
    public static final String CHECKPOINTS = "checkpoints";
    /** A checkpoint directory is {@code step-<N>}, N the optimizer steps done. */
    public static final String STEP_PREFIX = "step-";
    public static final String TRAINABLE = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String TRAINER_STATE = "trainer_state.json";
    /** Hidden name of the object written and deleted again to check that a destination is writable (never left behind). */
    public static final String WRITE_PROBE_PREFIX = ".write-probe-";

    private static final Pattern STEP_DIR = Pattern.compile(Pattern.quote(STEP_PREFIX) + "(\\d+)");
    /** {@code step-N/<file>}, relative to checkpoints/. */
    private static final Pattern STEP_FILE = Pattern.compile(Pattern.quote(STEP_PREFIX) + "(\\d+)/(.+)");

    /** A file in one checkpoint directory, as listed relative to checkpoints/. */
    public record CheckpointFile(long step, String file) {
        public boolean isManifest() {
            return file.equals(MANIFEST);
        }

        public boolean isIdentity() {
            return file.equals(RUN_IDENTITY);
        }
    }

    public RunLayout {
        if (root == null) {
            throw new IllegalArgumentException("root is required");
        }
    }

    public static RunLayout of(Path root) {
        return new RunLayout(root);
    }

    // ---- local paths ----

    public Path identity() {
        return root.resolve(RUN_IDENTITY);
    }

    public Path manifest() {
        return root.resolve(MANIFEST);
    }

    public Path rejected() {
        return root.resolve(REJECTED);
    }

    public Path bestEval() {
        return root.resolve(BEST_EVAL);
    }

    public Path checkpoints() {
        return root.resolve(CHECKPOINTS);
    }

    public Path checkpoint(long step) {
        return checkpoints().resolve(checkpointName(step));
    }

    /** training_summary.json in the directory the method's output went to (the root, or rejected/). */
    public static Path summaryIn(Path outputDir) {
        return outputDir.resolve(SUMMARY);
    }

    /** merged/ in the directory the method's output went to. */
    public static Path mergedIn(Path outputDir) {
        return outputDir.resolve(MERGED);
    }

    public static Path trainableIn(Path checkpointDir) {
        return checkpointDir.resolve(TRAINABLE);
    }

    public static Path optimizerIn(Path checkpointDir) {
        return checkpointDir.resolve(OPTIMIZER);
    }

    public static Path trainerStateIn(Path checkpointDir) {
        return checkpointDir.resolve(TRAINER_STATE);
    }

    public static Path identityIn(Path dir) {
        return dir.resolve(RUN_IDENTITY);
    }

    // ---- names and remote keys (relative to the output root / destination, '/'-separated) ----

    /** {@code step-N}. */
    public static String checkpointName(long step) {
        return STEP_PREFIX + step;
    }

    /** The step of a checkpoint directory name {@code step-N}; empty for any other name. */
    public static OptionalLong stepOf(String directoryName) {
        Matcher m = STEP_DIR.matcher(directoryName);
        return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /** {@code checkpoints/step-N}. */
    public static String checkpointKey(long step) {
        return CHECKPOINTS + "/" + checkpointName(step);
    }

    /** {@code checkpoints/step-N/run_identity.json}: the marker of a checkpoint. */
    public static String checkpointIdentityKey(long step) {
        return checkpointKey(step) + "/" + RUN_IDENTITY;
    }

    /** A path relative to checkpoints/ ({@code step-N/<file>}), parsed; empty for anything else. */
    public static Optional<CheckpointFile> checkpointFile(String relativeToCheckpoints) {
        Matcher m = STEP_FILE.matcher(relativeToCheckpoints);
        return m.matches() ? Optional.of(new CheckpointFile(Long.parseLong(m.group(1)), m.group(2)))
                : Optional.empty();
    }

    /** A path relative to the output root ({@code checkpoints/step-N/<file>}), parsed; empty for anything else. */
    public static Optional<CheckpointFile> outputCheckpointFile(String relativeToRoot) {
        String prefix = CHECKPOINTS + "/";
        return relativeToRoot.startsWith(prefix) ? checkpointFile(relativeToRoot.substring(prefix.length()))
                : Optional.empty();
    }

    /** Whether a path relative to the output root is under checkpoints/ (published separately, not part of the artifact). */
    public static boolean isUnderCheckpoints(String relativeToRoot) {
        return relativeToRoot.startsWith(CHECKPOINTS + "/");
    }

    /** The name of one write probe ({@code .write-probe-<unique>}). */
    public static String writeProbeName(String unique) {
        return WRITE_PROBE_PREFIX + unique;
    }

    /** Whether a file name is a write probe a killed run may have left (nobody's output). */
    public static boolean isWriteProbe(String fileName) {
        return fileName.startsWith(WRITE_PROBE_PREFIX);
    }

    /** {@code rejected/} under a destination URI (for messages: where a rejected output is kept). */
    public static String rejectedUnder(String destinationUri) {
        return destinationUri.replaceAll("/+$", "") + "/" + REJECTED + "/";
    }
}
