package io.finetune.trainer.train;

import io.finetune.trainer.util.FileTrees;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.io.FloatTensor;
import io.finetune.trainer.io.SafetensorsFile;
import io.finetune.trainer.io.SafetensorsWriter;
import io.finetune.trainer.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Resumable checkpoints under {@code <output>/checkpoints/step-<N>/}: trainable.safetensors, optimizer.safetensors and
 * trainer_state.json. Data order and dropout masks derive from (seed, step), so the step number is the whole RNG/data state.
 * A checkpoint is written to a temp directory and renamed, so a crash never leaves a half-written step-N.
 */
public final class Checkpoints {
    public static final String DIR = "checkpoints";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int KEEP = 2;

    private Checkpoints() {
    }

    /** step: optimizer steps done; losses: the loss curve so far; evalLossBefore: measured before step 0. */
    public record State(int step, long seed, List<Double> losses, double evalLossBefore) {
    }

    public static Path save(Path output, State state, Map<String, FloatTensor> trainable, Map<String, FloatTensor> optimizer)
            throws IOException {
        Path root = output.resolve(DIR);
        Files.createDirectories(root);
        Path tmp = Files.createTempDirectory(root, ".tmp-step-" + state.step() + "-");
        SafetensorsWriter.write(tmp.resolve("trainable.safetensors"), trainable);
        SafetensorsWriter.write(tmp.resolve("optimizer.safetensors"), optimizer);
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("trainer_state.json").toFile(), state);
        Path dest = root.resolve("step-" + state.step());
        if (Files.exists(dest)) {
            FileTrees.deleteTree(dest);
        }
        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
        List<Path> all = list(root);
        for (int i = 0; i + KEEP < all.size(); i++) {
            FileTrees.deleteTree(all.get(i));
        }
        return dest;
    }

    /** The highest complete step-N directory, if any. */
    public static Optional<Path> latest(Path output) throws IOException {
        Path root = output.resolve(DIR);
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        List<Path> all = list(root);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    public static State readState(Path checkpoint) throws IOException {
        return JSON.readValue(checkpoint.resolve("trainer_state.json").toFile(), State.class);
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
            return s.filter(p -> p.getFileName().toString().matches("step-\\d+"))
                    .filter(p -> Files.isRegularFile(p.resolve("trainer_state.json")))
                    .sorted(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(5))))
                    .toList();
        }
    }
}
