package io.finetune.trainer.method;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Where a method writes its output and what it may need from the base model to make it complete.
 *
 * @param dir          the output directory (docs/contracts.md D)
 * @param modelDir     the base model directory (its config.json completes a full-weights directory); null: copy nothing
 * @param tokenizerDir the tokenizer directory (tokenizer files are copied next to full weights)
 * @param baseModel    spec.model.source, named in an adapter's config
 * @param merge        spec.output.merge: adapters also write merged full weights
 */
public record OutputTarget(Path dir, Path modelDir, Path tokenizerDir, String baseModel, boolean merge) {
    /** The tokenizer files a Hugging Face model directory carries next to config.json (those that exist are copied). */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    /** Only the method's own files (no base model files to copy, no merge): tests and tools. */
    public static OutputTarget of(Path dir, String baseModel) {
        return new OutputTarget(dir, null, null, baseModel, false);
    }

    /** Copies config.json and the tokenizer files that exist into {@code dest}, making it a Hugging Face model directory. */
    public void copyModelFiles(Path dest) throws IOException {
        if (modelDir == null) {
            return;
        }
        Files.copy(modelDir.resolve("config.json"), dest.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
        for (String f : TOKENIZER_FILES) {
            if (Files.isRegularFile(tokenizerDir.resolve(f))) {
                Files.copy(tokenizerDir.resolve(f), dest.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
