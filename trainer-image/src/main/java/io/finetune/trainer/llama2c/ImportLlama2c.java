package io.finetune.trainer.llama2c;

import io.finetune.trainer.cli.Args;
import io.finetune.trainer.cli.UsageException;
import io.finetune.trainer.io.ModelWeights;
import io.finetune.trainer.io.SafetensorsWriter;
import io.finetune.trainer.model.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code import-llama2c <model.bin> <tokenizer.bin> --output DIR}: a llama2.c checkpoint and tokenizer as a Hugging Face LLaMA
 * directory (config.json, model.safetensors in F32, tokenizer.json, tokenizer_config.json, special_tokens_map.json).
 */
public final class ImportLlama2c {
    public static final String USAGE = """
              import-llama2c <model.bin> <tokenizer.bin> --output DIR
                                                           convert a llama2.c checkpoint + tokenizer to Hugging Face layout
            """;
    /** Written last, so a directory holding it is a complete import. */
    static final String DONE_MARKER = "model.safetensors";

    private ImportLlama2c() {
    }

    public static int command(String[] argv) throws IOException {
        Args a = Args.parse("import-llama2c", argv, 1, Set.of("output"));
        if (a.positional().size() != 2) {
            throw new UsageException("import-llama2c: expected <model.bin> <tokenizer.bin>, got " + a.positional());
        }
        String out = a.options().get("output");
        if (out == null) {
            throw new UsageException("import-llama2c: --output DIR is required");
        }
        Path model = Path.of(a.positional().get(0));
        Path tokenizer = Path.of(a.positional().get(1));
        for (Path p : new Path[] {model, tokenizer}) {
            if (!Files.isRegularFile(p)) {
                throw new UsageException("import-llama2c: " + p + " does not exist");
            }
        }
        LlamaConfig config = convert(model, tokenizer, Path.of(out));
        System.out.printf("imported %s (%d layers, d=%d, %d heads, vocab %d) to %s%n", model, config.numHiddenLayers(),
                config.hiddenSize(), config.numAttentionHeads(), config.vocabSize(), Path.of(out).toAbsolutePath());
        return 0;
    }

    /** Converts and writes every file; model.safetensors last. */
    public static LlamaConfig convert(Path modelBin, Path tokenizerBin, Path dir) throws IOException {
        Llama2cCheckpoint ckpt = Llama2cCheckpoint.read(modelBin);
        LlamaConfig config = ckpt.config();
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
