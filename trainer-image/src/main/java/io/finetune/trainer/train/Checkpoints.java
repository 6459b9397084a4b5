package io.finetune.trainer.train;

import io.finetune.trainer.layout.FileTrees;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsFile;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.safetensors.TensorInfo;
import io.finetune.trainer.layout.RunLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Resumable checkpoints under {@code <output>/checkpoints/step-<N>/} (names: {@link RunLayout}): the trainable weights, the
 * optimizer state and the trainer state. Data order and dropout masks derive from (seed, step), so the step number is the
 * whole RNG/data state. A checkpoint is written to a temp directory and renamed, so a crash never leaves a half-written
 * step-N. Old ones are removed by {@link #prune}, which the run calls once a newer one is published in full.
 */
public final class Checkpoints {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoints() {
    }

    /** step: optimizer steps done; losses: the loss curve so far; evalLossBefore: measured before step 0. */
    public record State(int step, long seed, List<Double> losses, double evalLossBefore) {
    }

    public static Path save(Path output, State state, Map<String, FloatTensor> trainable, Map<String, FloatTensor> optimizer)
            throws IOException {
        RunLayout layout = RunLayout.of(output);
        Path root = layout.checkpoints();
        Files.createDirectories(root);
        Path tmp = Files.createTempDirectory(root, ".tmp-" + RunLayout.checkpointName(state.step()) + "-");
        SafetensorsWriter.write(RunLayout.trainableIn(tmp), trainable);
        SafetensorsWriter.write(RunLayout.optimizerIn(tmp), optimizer);
        JSON.writerWithDefaultPrettyPrinter().writeValue(RunLayout.trainerStateIn(tmp).toFile(), state);
        Path dest = layout.checkpoint(state.step());
        if (Files.exists(dest)) {
            FileTrees.deleteTree(dest);
        }
        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
        return dest;
    }

    /**
     * Deletes all but the {@code keep} newest complete checkpoints under {@code <output>/checkpoints/} (so never the newest
     * one); returns the names removed (step-N), oldest first.
     */
    public static List<String> prune(Path output, int keep) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        }
        Path root = RunLayout.of(output).checkpoints();
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> all = list(root);
        List<String> removed = new ArrayList<>();
        for (int i = 0; i + keep < all.size(); i++) {
            FileTrees.deleteTree(all.get(i));
            removed.add(all.get(i).getFileName().toString());
        }
        return removed;
    }

    /** The highest complete step-N directory, if any. */
    public static Optional<Path> latest(Path output) throws IOException {
        Path root = RunLayout.of(output).checkpoints();
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        List<Path> all = list(root);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    public static State readState(Path checkpoint) throws IOException {
        return JSON.readValue(RunLayout.trainerStateIn(checkpoint).toFile(), State.class);
    }

    public static Map<String, FloatTensor> readTensors(Path file) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (TensorInfo info : f.tensors().values()) {
            out.put(info.name(), SafetensorsFile.read(info));
        }
        return out;
    }

    private static List<Path> list(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> RunLayout.stepOf(p.getFileName().toString()).isPresent())
                    .filter(p -> Files.isRegularFile(RunLayout.trainerStateIn(p)))
                    .sorted(Comparator.comparingLong(p -> RunLayout.stepOf(p.getFileName().toString()).getAsLong()))
                    .toList();
        }
    }
}
