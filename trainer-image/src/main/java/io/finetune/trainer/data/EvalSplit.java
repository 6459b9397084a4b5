package io.finetune.trainer.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Holds out round(fraction * n) records, chosen by a shuffle seeded with the job seed: the same seed and data always
 * give the same split. With fraction > 0 and at least 2 records, at least 1 record is held out and at least 1 kept
 * for training. Both parts keep the file order.
 */
final class EvalSplit {
    /** Keeps the split independent of other uses of the same seed (e.g. the batch shuffle). */
    private static final long SALT = 0x5EED_E7A1_5B117L;

    record Parts<T>(List<T> train, List<T> eval) {}

    private EvalSplit() {}

    static <T> Parts<T> split(List<T> items, double fraction, long seed) {
        int n = items.size();
        if (fraction <= 0 || n < 2) {
            return new Parts<>(List.copyOf(items), List.of());
        }
        int evalCount = Math.max(1, Math.min(n - 1, (int) Math.round(fraction * n)));
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed ^ SALT));
        boolean[] held = new boolean[n];
        for (int i = 0; i < evalCount; i++) {
            held[order.get(i)] = true;
        }
        List<T> train = new ArrayList<>(n - evalCount);
        List<T> eval = new ArrayList<>(evalCount);
        for (int i = 0; i < n; i++) {
            (held[i] ? eval : train).add(items.get(i));
        }
        return new Parts<>(train, eval);
    }
}
