package io.finetune.trainer.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Groups examples into {@link Batch}es. Without packing each row is one example and a batch is padded to its longest
 * row; with packing the rows come from {@link RowPacker} (several records per row of maxSeqLength, kept apart by
 * segmentIds and restarting positionIds) and a batch is maxSeqLength wide. Each epoch shuffles the rows with a
 * generator seeded from (seed, epoch), so a run is repeatable and a resumed run sees the same order.
 */
public final class Batcher implements BatchSource {
    private final List<List<Example>> rows;
    private final int batchSize;
    private final int maxSeqLength;
    private final boolean packing;
    private final int padId;

    public Batcher(List<Example> examples, int batchSize, int maxSeqLength, boolean packing, int padId) {
        if (batchSize < 1 || maxSeqLength < 1) {
            throw new IllegalArgumentException("batchSize and maxSeqLength must be >= 1, got " + batchSize + ", " + maxSeqLength);
        }
        this.batchSize = batchSize;
        this.maxSeqLength = maxSeqLength;
        this.packing = packing;
        this.padId = padId;
        this.rows = packing ? RowPacker.pack(examples, maxSeqLength) : singleRows(examples, maxSeqLength);
    }

    @Override
    public int batchesPerEpoch() {
        return (rows.size() + batchSize - 1) / batchSize;
    }

    /** All batches of one epoch, rows in an order shuffled from (seed, epoch); the last partial batch is kept. */
    @Override
    public List<Batch> epoch(long seed, int epoch) {
        List<Integer> order = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            order.add(i);
        }
        // Distinct, well-mixed stream per epoch (golden-ratio step as in SplittableRandom).
        Collections.shuffle(order, new Random(seed * 0x9E3779B97F4A7C15L + epoch));
        return batches(order);
    }

    /** Eval batches: file order, padded to the longest row, no packing. */
    public static List<Batch> sequential(List<Example> examples, int batchSize, int maxSeqLength, int padId) {
        Batcher b = new Batcher(examples, batchSize, maxSeqLength, false, padId);
        List<Integer> order = new ArrayList<>(b.rows.size());
        for (int i = 0; i < b.rows.size(); i++) {
            order.add(i);
        }
        return b.batches(order);
    }

    private List<Batch> batches(List<Integer> order) {
        List<Batch> out = new ArrayList<>(batchesPerEpoch());
        for (int from = 0; from < order.size(); from += batchSize) {
            List<List<Example>> batchRows = new ArrayList<>();
            for (int i : order.subList(from, Math.min(order.size(), from + batchSize))) {
                batchRows.add(rows.get(i));
            }
            out.add(build(batchRows));
        }
        return out;
    }

    private Batch build(List<List<Example>> batchRows) {
        int seqLen = packing ? maxSeqLength : batchRows.stream().mapToInt(Batcher::rowLength).max().orElse(1);
        int n = batchRows.size() * seqLen;
        long[] inputIds = new long[n];
        long[] labels = new long[n];
        long[] positionIds = new long[n];
        int[] segmentIds = new int[n];
        Arrays.fill(inputIds, padId);
        Arrays.fill(labels, Example.IGNORE);
        int lossTokens = 0;
        for (int r = 0; r < batchRows.size(); r++) {
            int col = 0;
            int segment = 0;
            for (Example e : batchRows.get(r)) {
                segment++;
                for (int t = 0; t < e.length(); t++, col++) {
                    int at = r * seqLen + col;
                    inputIds[at] = e.inputIds()[t];
                    positionIds[at] = t;
                    segmentIds[at] = segment;
                    // t == 0: nothing earlier in this segment predicts it, so it carries no loss after the shift.
                    if (t > 0 && e.labels()[t] != Example.IGNORE) {
                        labels[at] = e.labels()[t];
                        lossTokens++;
                    }
                }
            }
        }
        return new Batch(batchRows.size(), seqLen, inputIds, labels, positionIds, segmentIds, lossTokens);
    }

    private static int rowLength(List<Example> row) {
        return row.stream().mapToInt(Example::length).sum();
    }

    private static List<List<Example>> singleRows(List<Example> examples, int maxSeqLength) {
        List<List<Example>> rows = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            if (e.length() > maxSeqLength) {
                throw new IllegalArgumentException("example " + i + " has " + e.length() + " tokens, more than maxSeqLength "
                        + maxSeqLength + " (the DatasetLoader truncates or skips such records)");
            }
            rows.add(List.of(e));
        }
        return rows;
    }
}
