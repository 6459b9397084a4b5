package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.Arrays;

/** Greedy decoding (argmax of the last position), re-running the full prefix each token: simple, for short samples. */
public final class Generator {
    private Generator() {
    }

    /** Returns only the generated ids (without the prompt), stopping at eosId or after maxNewTokens. */
    public static int[] greedy(LlamaModel model, int[] prompt, int maxNewTokens, int eosId) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int len = prompt.length;
        for (int n = 0; n < maxNewTokens; n++) {
            int[] row = Arrays.copyOf(ids, len);
            int next;
            try (NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                NDArray logits = model.forward(sub, ModelBatch.ofSequences(new int[][] {row}, 0), ForwardContext.EVAL);
                next = (int) logits.get(new NDIndex("0, -1, :")).argMax().getLong();
            }
            if (next == eosId) {
                break;
            }
            ids[len++] = next;
        }
        return Arrays.copyOfRange(ids, prompt.length, len);
    }
}
