package io.finetune.trainer.cli;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.CharTokenizerWriter;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code init-model --preset tiny --seed S --output DIR}: a randomly initialised LLaMA in Hugging Face layout (config.json,
 * model.safetensors, tokenizer.json + tokenizer_config.json of a char-level tokenizer), so tests and the quick start need no
 * download. Same preset and seed -> byte-identical files.
 */
public final class InitModel {
    private InitModel() {
    }

    public static void write(ModelPreset preset, long seed, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (LlamaModel model = LlamaModel.random(preset.config(), seed, NDManager.newBaseManager())) {
            model.save(dir, model.stateDict(), 1, 2);
        }
        CharTokenizerWriter.write(dir, ModelPreset.ALPHABET, true);
    }

    public static int command(String[] argv) throws IOException {
        Args a = Args.parse("init-model", argv, 1, java.util.Set.of("preset", "seed", "output"));
        String out = a.options().get("output");
        if (out == null) {
            throw new UsageException("init-model: --output DIR is required");
        }
        ModelPreset preset;
        try {
            preset = ModelPreset.byId(a.option("preset", "tiny"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("init-model: " + e.getMessage());
        }
        long seed;
        try {
            seed = Long.parseLong(a.option("seed", "42"));
        } catch (NumberFormatException e) {
            throw new UsageException("init-model: --seed must be an integer, got '" + a.option("seed", "") + "'");
        }
        write(preset, seed, Path.of(out));
        System.out.printf("wrote %s model (seed %d, %s) to %s%n", preset.id(), seed, preset.config(), Path.of(out).toAbsolutePath());
        return 0;
    }
}
