package io.finetune.trainer.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;

/**
 * Packs examples into rows of at most {@code capacity} tokens with best-fit decreasing (longest first, each into the
 * fullest row that still has room). A record is never split across rows, except one that alone exceeds the capacity:
 * it is cut into capacity-sized chunks, each its own segment. The packing depends only on the examples, so every epoch
 * sees the same rows (in a different order).
 */
final class RowPacker {
    private RowPacker() {}

    /** Rows, each a list of segments; a segment is an example that fits in a row. */
    static List<List<Example>> pack(List<Example> examples, int capacity) {
        List<Example> pieces = new ArrayList<>();
        for (Example e : examples) {
            for (int from = 0; from < e.length(); from += capacity) {
                int to = Math.min(e.length(), from + capacity);
                pieces.add(from == 0 && to == e.length() ? e : new Example(
                        Arrays.copyOfRange(e.inputIds(), from, to), Arrays.copyOfRange(e.labels(), from, to)));
            }
        }
        Integer[] order = new Integer[pieces.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // Stable sort: equal lengths keep input order, so packing is deterministic.
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> pieces.get(i).length()).reversed());

        List<List<Example>> rows = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        TreeMap<Integer, ArrayDeque<Integer>> rowsByFree = new TreeMap<>();  // free tokens -> rows with that much room
        for (int i : order) {
            Example piece = pieces.get(i);
            Integer free = rowsByFree.ceilingKey(piece.length());
            int row;
            if (free == null) {
                row = rows.size();
                rows.add(new ArrayList<>());
                used.add(0);
            } else {
                ArrayDeque<Integer> candidates = rowsByFree.get(free);
                row = candidates.pollFirst();
                if (candidates.isEmpty()) {
                    rowsByFree.remove(free);
                }
            }
            rows.get(row).add(piece);
            used.set(row, used.get(row) + piece.length());
            int left = capacity - used.get(row);
            if (left > 0) {
                rowsByFree.computeIfAbsent(left, k -> new ArrayDeque<>()).addLast(row);
            }
        }
        return rows;
    }
}
