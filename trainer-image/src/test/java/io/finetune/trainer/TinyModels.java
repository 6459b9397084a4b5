package io.finetune.trainer;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.CharTokenizerWriter;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import io.finetune.trainer.data.BatchSource;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Tiny configs, synthetic batches and the on-disk tiny job inputs for tests: a char-tokenizer model directory and a
 * prompt-completion dataset (reverse the digits) that every CLI, pod, storage and hostile-input test trains on.
 */
public final class TinyModels {
    /** d=32, 2 layers, kv dim 16 (k_proj/v_proj are 32 -> 16), vocab 102 (the char tokenizer), context 256. */
    public static final ModelConfig CHAR_MODEL =
            new ModelConfig("llama", 32, 64, 2, 4, 2, 8, 1e-5, 10000.0, null, 102, false, false, 256);

    private TinyModels() {
    }

    /** Writes {@link #CHAR_MODEL} (random weights, seed 3, safetensors) and its char tokenizer into {@code dir}. */
    public static Path writeCharModel(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (LlamaModel m = LlamaModel.random(CHAR_MODEL, 3, NDManager.newBaseManager())) {
            m.save(dir, m.stateDict(), 1, 2);
        }
        CharTokenizerWriter.write(dir, ModelPreset.ALPHABET, true);
        return dir;
    }

    /** {@code records} JSONL lines {"prompt": "1037=", "completion": "7301"}: reverse a number's digits. */
    public static String reversalDataset(int records) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < records; i++) {
            String w = Integer.toString(1000 + i * 37);
            sb.append("{\"prompt\": \"").append(w).append("=\", \"completion\": \"")
                    .append(new StringBuilder(w).reverse()).append("\"}\n");
        }
        return sb.toString();
    }

    /** {@link #reversalDataset} written to {@code file} (parent directories created). */
    public static Path writeReversalDataset(Path file, int records) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        Files.writeString(file, reversalDataset(records));
        return file;
    }

    /** d=32, 2 layers, 4 query heads sharing 2 kv heads, vocab 24; bias optional (Qwen2-style). */
    public static ModelConfig config(boolean qkvBias) {
        return new ModelConfig(qkvBias ? "qwen2" : "llama", 32, 64, 2, 4, 2, 8, 1e-5, 10000.0, null, 24, false, qkvBias, 128);
    }

    /** Rows of random tokens in [4, vocab): a packed row with two records, and a padded shorter row. */
    public static Batch batch(long seed, int vocab) {
        Random r = new Random(seed);
        int t = 12;
        long[] ids = new long[2 * t];
        long[] labels = new long[2 * t];
        long[] pos = new long[2 * t];
        int[] seg = new int[2 * t];
        for (int i = 0; i < t; i++) {
            ids[i] = 4 + r.nextInt(vocab - 4);
            labels[i] = i < 2 ? Batch.IGNORE : ids[i];
            seg[i] = i < 7 ? 1 : 2;
            pos[i] = i < 7 ? i : i - 7;
            boolean real = i < 9;
            ids[t + i] = real ? 4 + r.nextInt(vocab - 4) : 0;
            labels[t + i] = real ? ids[t + i] : Batch.IGNORE;
            seg[t + i] = real ? 1 : 0;
            pos[t + i] = real ? i : 0;
        }
        return new Batch(2, t, ids, labels, pos, seg, Batch.countLossTokens(2, t, labels, seg));
    }

    /** A learnable pattern: each row counts up from a random start (mod vocab), so next-token loss can fall fast. */
    public static List<Batch> countingBatches(int n, int batchSize, int seqLen, int vocab, long seed) {
        Random r = new Random(seed);
        List<Batch> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int[][] rows = new int[batchSize][seqLen];
            for (int[] row : rows) {
                int start = r.nextInt(vocab - 4);
                for (int i = 0; i < seqLen; i++) {
                    row[i] = 4 + (start + i) % (vocab - 4);
                }
            }
            out.add(Batch.ofSequences(rows, 0));
        }
        return out;
    }

    /** The same batches every epoch. */
    public static BatchSource fixed(List<Batch> batches) {
        return new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return batches.size();
            }

            @Override
            public List<Batch> epoch(long seed, int epoch) {
                return batches;
            }
        };
    }

    public static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
