package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.linalg.OwnedArrays;

/**
 * Shifted next-token cross-entropy (transformers ForCausalLMLoss): position t predicts label t+1; labels -100, padding, and
 * pairs that cross a packed-record boundary are ignored. Returns the SUM over counted tokens, so gradient accumulation can
 * divide by the step's total token count.
 */
public final class CausalLmLoss {
    private CausalLmLoss() {
    }

    /** logits: (B, T, V) -> scalar sum of -log p(target). */
    public static NDArray sum(NDManager sub, NDArray logits, Batch batch) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        long[] target = new long[b * t];
        float[] weight = new float[b * t];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i + 1 < t; i++) {
                int cur = r * t + i;
                int next = cur + 1;
                long label = batch.labels()[next];
                int seg = batch.segmentIds()[next];
                if (label != Batch.IGNORE && seg != 0 && seg == batch.segmentIds()[cur]) {
                    target[cur] = label;
                    weight[cur] = 1f;
                }
            }
        }
        NDArray idx = OwnedArrays.create(sub, target, new Shape(b, t, 1));
        NDArray w = OwnedArrays.create(sub, weight, new Shape(b, t, 1));
        NDArray logp = logits.logSoftmax(-1).gather(idx, -1); // (B, T, 1)
        return logp.mul(w).sum().neg();
    }
}
