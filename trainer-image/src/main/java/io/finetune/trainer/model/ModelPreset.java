package io.finetune.trainer.model;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.CharTokenizerWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Built-in random-init model shapes for {@code init-model}: char-level vocab (4 specials + printable ASCII + 3 chat role markers,
 * the layout of data.CharTokenizerWriter with a chat template).
 */
public enum ModelPreset {
    /** Trains in minutes on 2 CPU cores: the quick start's base model. */
    TINY("tiny", 128, 352, 4, 4, 2),
    /** d_model 512, 8 layers: the throughput reference configuration. */
    SMALL("small", 512, 1376, 8, 8, 4);

    /** Printable ASCII, ids 4.. (0 pad, 1 bos, 2 eos, 3 unk). */
    public static final String ALPHABET = printableAscii();
    public static final int SPECIAL_TOKENS = 4;

    private final String id;
    private final int hidden;
    private final int intermediate;
    private final int layers;
    private final int heads;
    private final int kvHeads;

    ModelPreset(String id, int hidden, int intermediate, int layers, int heads, int kvHeads) {
        this.id = id;
        this.hidden = hidden;
        this.intermediate = intermediate;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
    }

    public String id() {
        return id;
    }

    public ModelConfig config() {
        return new ModelConfig("llama", hidden, intermediate, layers, heads, kvHeads, hidden / heads, 1e-5, 10000.0, null,
                SPECIAL_TOKENS + ALPHABET.length() + CharTokenizerWriter.ROLE_MARKERS.size(), false, false, 2048);
    }

    public static ModelPreset byId(String id) {
        return Arrays.stream(values()).filter(p -> p.id.equals(id)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "unknown preset '" + id + "' (known: " + Arrays.stream(values()).map(ModelPreset::id).toList() + ")"));
    }

    private static String printableAscii() {
        StringBuilder sb = new StringBuilder();
        for (char c = ' '; c <= '~'; c++) {
            sb.append(c);
        }
        return sb.toString();
    }

    /** Writes this preset with random weights ({@code seed}) and its char tokenizer into {@code dir} (HF layout). */
    public void write(long seed, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (LlamaModel model = LlamaModel.random(config(), seed, NDManager.newBaseManager())) {
            model.save(dir, model.stateDict(), 1, 2);
        }
        CharTokenizerWriter.write(dir, ALPHABET, true);
    }
}
