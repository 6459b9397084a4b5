package io.finetune.trainer.llama2c;

import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A llama2.c checkpoint and tokenizer as a Hugging Face LLaMA directory (config.json, model.safetensors in F32,
 * tokenizer.json, tokenizer_config.json, special_tokens_map.json); the {@code import-llama2c} command's work.
 */
public final class ImportLlama2c {
    /** Written last, so a directory holding it is a complete import. */
    static final String DONE_MARKER = "model.safetensors";

    private ImportLlama2c() {
    }

    /** Converts and writes every file; model.safetensors last. */
    public static ModelConfig convert(Path modelBin, Path tokenizerBin, Path dir) throws IOException {
        Llama2cCheckpoint ckpt = Llama2cCheckpoint.read(modelBin);
        ModelConfig config = ckpt.config();
        Llama2cTokenizer tok;
        try {
            tok = Llama2cTokenizer.read(tokenizerBin, config.vocabSize());
        } catch (IllegalArgumentException e) {
            throw new IOException(tokenizerBin + ": " + e.getMessage(), e);
        }
        Files.createDirectories(dir);
        tok.write(dir, config.maxPositionEmbeddings());
        config.write(dir, 1, 2);
        SafetensorsWriter.write(dir.resolve(ModelWeights.SINGLE), ckpt.hfWeights());
        return config;
    }
}
