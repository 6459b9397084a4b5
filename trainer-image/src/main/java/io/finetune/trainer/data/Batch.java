package io.finetune.trainer.data;

/**
 * One training batch; every array is row-major with length batchSize*seqLen.
 *
 * <p>segmentIds: 0 = padding, k > 0 = the k-th record in that row; attention is causal and only within an equal
 * non-zero segment. positionIds restart at 0 for each record. Labels are {@link Example#IGNORE} on padding and on the
 * first token of every record, so the shifted loss never predicts one record's first token from the previous record.
 * lossTokens = count of labels != IGNORE, i.e. the positions 1..T-1 that carry loss after the shift.
 */
public record Batch(int batchSize, int seqLen, long[] inputIds, long[] labels, long[] positionIds, int[] segmentIds,
                    int lossTokens) {
    public Batch {
        int n = batchSize * seqLen;
        if (inputIds.length != n || labels.length != n || positionIds.length != n || segmentIds.length != n) {
            throw new IllegalArgumentException("batch arrays must have length batchSize*seqLen = " + n);
        }
    }

    /** Flat index of (row, column). */
    public int index(int row, int col) {
        return row * seqLen + col;
    }
}
