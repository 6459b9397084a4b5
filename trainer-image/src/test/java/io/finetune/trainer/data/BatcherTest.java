package io.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatcherTest {
    static final int PAD = 0;

    /**
     * Examples whose ids are all 100 + index, so every token says which example it came from; lengths 2..maxLen,
     * label IGNORE on the first half of each (a "prompt").
     */
    static List<Example> examples(int count, int maxLen, long seed) {
        Random rnd = new Random(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int len = 2 + rnd.nextInt(maxLen - 1);
            int[] ids = new int[len];
            int[] labels = new int[len];
            Arrays.fill(ids, 100 + i);
            for (int t = 0; t < len; t++) {
                labels[t] = t < len / 2 ? Example.IGNORE : 100 + i;
            }
            out.add(new Example(ids, labels));
        }
        return out;
    }

    @Test
    void paddingPadsEachBatchToItsLongestRow() {
        List<Example> ex = List.of(
                new Example(new int[] {7, 8, 9}, new int[] {Example.IGNORE, 8, 9}),
                new Example(new int[] {5, 6}, new int[] {5, 6}));
        List<Batch> batches = Batcher.sequential(ex, 2, 16, PAD);
        assertThat(batches).hasSize(1);
        Batch b = batches.get(0);
        assertThat(b.seqLen()).isEqualTo(3);
        assertThat(b.inputIds()).containsExactly(7, 8, 9, 5, 6, PAD);
        assertThat(b.labels()).containsExactly(-100, 8, 9, -100, 6, -100);
        assertThat(b.positionIds()).containsExactly(0, 1, 2, 0, 1, 0);
        assertThat(b.segmentIds()).containsExactly(1, 1, 1, 1, 1, 0);
        assertThat(b.lossTokens()).isEqualTo(3);
    }

    @Test
    void everyExampleAppearsExactlyOncePerEpochWithAndWithoutPacking() {
        List<Example> ex = examples(37, 12, 3);
        for (boolean packing : new boolean[] {false, true}) {
            Batcher batcher = new Batcher(ex, 4, 16, packing, PAD);
            for (int epoch = 0; epoch < 3; epoch++) {
                List<Batch> batches = batcher.epoch(42, epoch);
                assertThat(batches).hasSize(batcher.batchesPerEpoch());
                Map<Long, Integer> tokensSeen = new HashMap<>();
                long loss = 0;
                for (Batch b : batches) {
                    for (int i = 0; i < b.inputIds().length; i++) {
                        if (b.segmentIds()[i] != 0) {
                            tokensSeen.merge(b.inputIds()[i], 1, Integer::sum);
                        }
                    }
                    loss += b.lossTokens();
                }
                Map<Long, Integer> expected = new HashMap<>();
                for (Example e : ex) {
                    expected.put((long) e.inputIds()[0], e.length());
                }
                assertThat(tokensSeen).as("packing=%s epoch=%d", packing, epoch).isEqualTo(expected);
                assertThat(loss).isEqualTo(ex.stream().mapToLong(Example::lossTokens).sum());
            }
        }
    }

    @Test
    void shuffleIsDeterministicPerSeedAndEpochAndDiffersAcrossEpochs() {
        Batcher batcher = new Batcher(examples(40, 10, 5), 4, 32, false, PAD);
        assertThat(firstTokens(batcher.epoch(7, 1))).isEqualTo(firstTokens(batcher.epoch(7, 1)));
        assertThat(firstTokens(batcher.epoch(7, 1))).isNotEqualTo(firstTokens(batcher.epoch(7, 2)));
        assertThat(firstTokens(batcher.epoch(7, 1))).isNotEqualTo(firstTokens(batcher.epoch(8, 1)));
        // packing is a pure function of the examples: two batchers give identical batches
        List<Example> ex = examples(60, 10, 9);
        List<Batch> a = new Batcher(ex, 4, 24, true, PAD).epoch(3, 0);
        List<Batch> b = new Batcher(ex, 4, 24, true, PAD).epoch(3, 0);
        assertThat(a).hasSameSizeAs(b);
        for (int i = 0; i < a.size(); i++) {
            assertThat(a.get(i).inputIds()).containsExactly(b.get(i).inputIds());
            assertThat(a.get(i).segmentIds()).containsExactly(b.get(i).segmentIds());
        }
    }

    @Test
    void packedSegmentsNeverSeeEachOther() {
        List<Example> ex = examples(50, 9, 11);
        int maxSeq = 20;
        Batcher batcher = new Batcher(ex, 3, maxSeq, true, PAD);
        assertThat(batcher.batchesPerEpoch()).isLessThan((ex.size() + 2) / 3); // packing actually packs
        for (Batch b : batcher.epoch(1, 0)) {
            assertThat(b.seqLen()).isEqualTo(maxSeq);
            int lossInBatch = 0;
            for (int r = 0; r < b.batchSize(); r++) {
                int segment = 0;
                long owner = -1;
                for (int c = 0; c < b.seqLen(); c++) {
                    int at = b.index(r, c);
                    int seg = b.segmentIds()[at];
                    if (seg == 0) {  // padding only at the row's end
                        for (int rest = c; rest < b.seqLen(); rest++) {
                            assertThat(b.segmentIds()[b.index(r, rest)]).isZero();
                            assertThat(b.labels()[b.index(r, rest)]).isEqualTo(Example.IGNORE);
                        }
                        break;
                    }
                    if (seg != segment) {
                        // a new record starts: next segment number, position 0, no loss on its first token
                        assertThat(seg).isEqualTo(segment + 1);
                        assertThat(b.positionIds()[at]).isZero();
                        assertThat(b.labels()[at]).isEqualTo(Example.IGNORE);
                        segment = seg;
                        owner = b.inputIds()[at];
                    } else {
                        assertThat(b.positionIds()[at]).isEqualTo(b.positionIds()[at - 1] + 1);
                        // every token of a segment belongs to one record: no record is split or interleaved
                        assertThat(b.inputIds()[at]).isEqualTo(owner);
                    }
                    if (b.labels()[at] != Example.IGNORE) {
                        lossInBatch++;
                    }
                }
            }
            assertThat(b.lossTokens()).isEqualTo(lossInBatch);
        }
    }

    @Test
    void aRecordLongerThanARowIsCutIntoSegmentsOnlyWhenPacking() {
        int[] ids = new int[25];
        Arrays.fill(ids, 9);
        List<Example> ex = List.of(new Example(ids, ids.clone()));
        Batcher packed = new Batcher(ex, 8, 10, true, PAD);
        Batch b = packed.epoch(0, 0).get(0);
        assertThat(b.batchSize()).isEqualTo(3); // 10 + 10 + 5 tokens
        assertThat(Arrays.stream(b.segmentIds()).filter(s -> s != 0).count()).isEqualTo(25);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Batcher(ex, 8, 10, false, PAD))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("25 tokens");
    }

    private static List<Long> firstTokens(List<Batch> batches) {
        List<Long> out = new ArrayList<>();
        for (Batch b : batches) {
            for (int r = 0; r < b.batchSize(); r++) {
                out.add(b.inputIds()[b.index(r, 0)]);
            }
        }
        return out;
    }
}
