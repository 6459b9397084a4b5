package io.finetune.trainer.cli;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.CharTokenizerWriter;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code init-model --preset tiny --seed S --output DIR}: a randomly initialised LLaMA in Hugging Face layout (config.json,
 * model.safetensors, tokenizer.json + tokenizer_config.json of a char-level tokenizer), so tests and the quick start need no
 * download. Same preset and seed -> byte-identical files.
 */
@Command(name = "init-model", description = "Write a random-init LLaMA model in Hugging Face layout.")
public final class InitModel implements Callable<Integer> {
    @Option(names = "--preset", paramLabel = "tiny|small", defaultValue = "tiny",
            description = "the model size (default: ${DEFAULT-VALUE})")
    String presetId;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "the initialisation seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--output", paramLabel = "DIR", required = true, description = "the model directory to write")
    Path out;

    InitModel() {
    }

    @Override
    public Integer call() throws IOException {
        ModelPreset preset;
        try {
            preset = ModelPreset.byId(presetId);
        } catch (IllegalArgumentException e) {
            throw new UsageException("init-model: " + e.getMessage());
        }
        preset.write(seed, out);
        System.out.printf("wrote %s model (seed %d, %s) to %s%n", preset.id(), seed, preset.config(), out.toAbsolutePath());
        return 0;
    }
}
