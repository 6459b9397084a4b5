package io.finetune.trainer.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.model.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * spec.evaluation.evalEverySteps: the trainable weights of the step with the lowest eval loss so far, kept on local disk
 * under {@code <output>/eval-best/} ({@link RunLayout#bestEval()}; not in memory: for Full the trainable weights are the
 * whole model). A local resume finds them again; a new pod (fresh scratch) chooses among the evaluations after its resume point.
 */
final class BestWeights {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** step and eval loss of the kept weights. */
    record Best(int step, double loss) {
    }

    private final Path dir;
    private Best best;

    private BestWeights(Path dir, Best best) {
        this.dir = dir;
        this.best = best;
    }

    static BestWeights open(Path output) throws IOException {
        Path dir = RunLayout.of(output).bestEval();
        Path state = dir.resolve(RunLayout.BEST_EVAL_STATE);
        Best best = Files.isRegularFile(state) && Files.isRegularFile(RunLayout.trainableIn(dir))
                ? JSON.readValue(state.toFile(), Best.class) : null;
        return new BestWeights(dir, best);
    }

    Best best() {
        return best;
    }

    /** Keeps the weights when {@code loss} is the lowest seen; returns whether it was. */
    boolean offer(int step, double loss, List<Parameter> trainable) throws IOException {
        if (!Double.isFinite(loss) || (best != null && best.loss() <= loss)) {
            return false;
        }
        Map<String, FloatTensor> weights = new LinkedHashMap<>();
        for (Parameter p : trainable) {
            weights.put(p.name(), FloatTensor.of(p.array()));
        }
        Files.createDirectories(dir);
        SafetensorsWriter.write(RunLayout.trainableIn(dir), weights);
        best = new Best(step, loss);
        JSON.writeValue(dir.resolve(RunLayout.BEST_EVAL_STATE).toFile(), best);
        return true;
    }

    /** Loads the kept weights back into the model's trainable parameters. */
    void restoreInto(List<Parameter> trainable) throws IOException {
        Map<String, FloatTensor> weights = Checkpoints.readTensors(RunLayout.trainableIn(dir));
        for (Parameter p : trainable) {
            FloatTensor t = weights.get(p.name());
            if (t == null) {
                throw new IOException(dir + ": kept weights have no tensor '" + p.name() + "'");
            }
            OwnedArrays.copyInto(p.array(), t.data());
        }
    }

    /** Removes the directory so it is never published with the output. */
    void delete() throws IOException {
        Files.deleteIfExists(RunLayout.trainableIn(dir));
        Files.deleteIfExists(dir.resolve(RunLayout.BEST_EVAL_STATE));
        Files.deleteIfExists(dir);
    }
}
