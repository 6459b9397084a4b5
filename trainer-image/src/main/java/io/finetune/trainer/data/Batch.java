package io.finetune.trainer.data;

/**
 * One batch, as the data pipeline builds it and the model reads it (docs/contracts.md A); every array is row-major with length
 * batchSize*seqLen.
 *
 * <p>segmentIds: 0 = padding, k > 0 = the k-th record in that row; attention is causal and only within an equal
 * non-zero segment. positionIds restart at 0 for each record. Labels are aligned with inputIds (the loss shifts them) and
 * {@link #IGNORE} on padding and on the first token of every record, so the shifted loss never predicts one record's first
 * token from the previous record. lossTokens = count of labels != IGNORE, i.e. the positions 1..T-1 that carry loss after
 * the shift.
 */
public record Batch(int batchSize, int seqLen, long[] inputIds, long[] labels, long[] positionIds, int[] segmentIds,
                    int lossTokens) {
    public static final int IGNORE = Example.IGNORE;

    public Batch {
        int n = batchSize * seqLen;
        if (inputIds.length != n || labels.length != n || positionIds.length != n || segmentIds.length != n) {
            throw new IllegalArgumentException("batch arrays must all have batchSize*seqLen = " + n + " entries");
        }
    }

    /**
     * Rows [from, to) as a batch of their own (one data-parallel rank's shard), without the trailing columns that are
     * padding in every one of these rows; the loss-token count is recounted for these rows.
     */
    public Batch rows(int from, int to) {
        if (from < 0 || to > batchSize || from >= to) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + batchSize);
        }
        int b = to - from;
        int len = 1;
        for (int r = from; r < to; r++) {
            for (int c = seqLen - 1; c >= len; c--) {
                if (segmentIds[index(r, c)] != 0) {
                    len = c + 1;
                    break;
                }
            }
        }
        long[] ids = new long[b * len];
        long[] lab = new long[b * len];
        long[] pos = new long[b * len];
        int[] seg = new int[b * len];
        for (int r = 0; r < b; r++) {
            int src = index(from + r, 0);
            System.arraycopy(inputIds, src, ids, r * len, len);
            System.arraycopy(labels, src, lab, r * len, len);
            System.arraycopy(positionIds, src, pos, r * len, len);
            System.arraycopy(segmentIds, src, seg, r * len, len);
        }
        return new Batch(b, len, ids, lab, pos, seg, countLossTokens(b, len, lab, seg));
    }

    /** Flat index of (row, column). */
    public int index(int row, int col) {
        return row * seqLen + col;
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
    public static Batch ofSequences(int[][] rows, int padId) {
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
        return new Batch(b, t, ids, labels, pos, seg, countLossTokens(b, t, labels, seg));
    }
}
