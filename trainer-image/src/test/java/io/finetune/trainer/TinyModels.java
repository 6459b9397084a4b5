package io.finetune.trainer;

import io.finetune.trainer.data.Batch;
import io.finetune.trainer.model.LlamaConfig;
import io.finetune.trainer.train.BatchSource;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Tiny configs and synthetic batches for tests (the real data pipeline is helper "data"'s package). */
public final class TinyModels {
    private TinyModels() {
    }

    /** d=32, 2 layers, 4 query heads sharing 2 kv heads, vocab 24; bias optional (Qwen2-style). */
    public static LlamaConfig config(boolean qkvBias) {
        return new LlamaConfig(qkvBias ? "qwen2" : "llama", 32, 64, 2, 4, 2, 8, 1e-5, 10000.0, null, 24, false, qkvBias, 128);
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
