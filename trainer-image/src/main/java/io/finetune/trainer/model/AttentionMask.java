package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.arrays.OwnedArrays;
import java.util.OptionalInt;

/**
 * Additive attention mask (B, 1, T, T): 0 where query i may see key j (j <= i and both in the same non-zero segment), a large
 * negative value elsewhere. A padding position sees only itself, so its softmax row stays finite.
 *
 * <p>With a sliding window w, query i also needs i - j < w: it sees itself and the w-1 tokens before it, as transformers'
 * masking_utils.sliding_window_overlay ({@code kv_idx > q_idx - sliding_window}) added on its causal mask. Within a packed
 * record index distance equals position distance, so the window counts the record's own tokens.
 */
public final class AttentionMask {
    static final float BLOCKED = -1e9f;

    private AttentionMask() {
    }

    /** The causal mask without a window. */
    public static NDArray build(NDManager manager, Batch batch) {
        return build(manager, batch, OptionalInt.empty());
    }

    public static NDArray build(NDManager manager, Batch batch, OptionalInt window) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        int w = window.orElse(Integer.MAX_VALUE);
        int[] seg = batch.segmentIds();
        float[] mask = new float[b * t * t];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                int si = seg[r * t + i];
                int base = (r * t + i) * t;
                for (int j = 0; j < t; j++) {
                    boolean visible = j == i || (j < i && i - j < w && si != 0 && seg[r * t + j] == si);
                    mask[base + j] = visible ? 0f : BLOCKED;
                }
            }
        }
        return OwnedArrays.create(manager, mask, new Shape(b, 1, t, t));
    }
}
