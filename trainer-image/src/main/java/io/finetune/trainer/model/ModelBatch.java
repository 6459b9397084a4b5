package io.finetune.trainer.model;

/**
 * Model input, field for field the data pipeline's {@code Batch} (CONTRACTS.md A): row-major [batchSize*seqLen] arrays.
 * segmentIds 0 = padding, k > 0 = k-th record of the row (attention stays within a segment); positionIds restart per record;
 * labels are aligned with inputIds (the loss shifts them) and -100 means no loss.
 */
public record ModelBatch(int batchSize, int seqLen, long[] inputIds, long[] labels, long[] positionIds, int[] segmentIds,
                         int lossTokens) {
    public static final int IGNORE = -100;

    public ModelBatch {
        int n = batchSize * seqLen;
        if (inputIds.length != n || labels.length != n || positionIds.length != n || segmentIds.length != n) {
            throw new IllegalArgumentException("batch arrays must all have batchSize*seqLen = " + n + " entries");
        }
    }

    public int tokens() {
        return batchSize * seqLen;
    }

    /** Tokens that count for throughput: non-padding positions. */
    public long realTokens() {
        long c = 0;
        for (int s : segmentIds) {
            if (s != 0) {
                c++;
            }
        }
        return c;
    }

    /** Number of positions t whose next token (t+1) is a loss target in the same segment (the shifted-loss token count). */
    public static int countLossTokens(int batchSize, int seqLen, long[] labels, int[] segmentIds) {
        int c = 0;
        for (int b = 0; b < batchSize; b++) {
            for (int t = 1; t < seqLen; t++) {
                int i = b * seqLen + t;
                if (labels[i] != IGNORE && segmentIds[i] != 0 && segmentIds[i] == segmentIds[i - 1]) {
                    c++;
                }
            }
        }
        return c;
    }

    /** One unpacked row per sequence, padded to the longest with padId; every real token is a label. */
    public static ModelBatch ofSequences(int[][] rows, int padId) {
        int t = 0;
        for (int[] r : rows) {
            t = Math.max(t, r.length);
        }
        int b = rows.length;
        long[] ids = new long[b * t];
        long[] labels = new long[b * t];
        long[] pos = new long[b * t];
        int[] seg = new int[b * t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                int k = i * t + j;
                boolean real = j < rows[i].length;
                ids[k] = real ? rows[i][j] : padId;
                labels[k] = real ? rows[i][j] : IGNORE;
                pos[k] = real ? j : 0;
                seg[k] = real ? 1 : 0;
            }
        }
        return new ModelBatch(b, t, ids, labels, pos, seg, countLossTokens(b, t, labels, seg));
    }
}
