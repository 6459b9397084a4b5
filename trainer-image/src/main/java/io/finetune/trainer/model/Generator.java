package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.TextTokenizer;
import java.util.Arrays;
import java.util.Random;

/**
 * Decoding from the last position's logits, re-running the full prefix each token (simple, for short samples): greedy
 * (argmax) at temperature 0, else sampling from softmax(logits / temperature) with a seeded generator.
 */
public final class Generator {
    private Generator() {
    }

    /** Returns only the generated ids (without the prompt), stopping at eosId or after maxNewTokens. */
    public static int[] greedy(LlamaModel model, int[] prompt, int maxNewTokens, int eosId) {
        return generate(model, prompt, maxNewTokens, eosId, 0, 0);
    }

    /** As {@link #greedy}, sampling at {@code temperature} > 0 (the same {@code seed} gives the same ids). */
    public static int[] generate(LlamaModel model, int[] prompt, int maxNewTokens, int eosId, double temperature, long seed) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int len = prompt.length;
        Random rng = new Random(seed);
        for (int n = 0; n < maxNewTokens; n++) {
            int[] row = Arrays.copyOf(ids, len);
            int next;
            try (NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                NDArray logits = model.forward(sub, Batch.ofSequences(new int[][] {row}, 0), ForwardContext.EVAL)
                        .get(new NDIndex("0, -1, :"));
                next = temperature == 0 ? (int) logits.argMax().getLong() : sample(logits.toFloatArray(), temperature, rng);
            }
            if (next == eosId) {
                break;
            }
            ids[len++] = next;
        }
        return Arrays.copyOfRange(ids, prompt.length, len);
    }

    private static int sample(float[] logits, double temperature, Random rng) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) {
                return i;
            }
        }
        return p.length - 1;
    }

    /** Decoding settings; temperature 0 means greedy (argmax). */
    public record Options(int maxNewTokens, double temperature, long seed) {
        public static final Options GREEDY = new Options(64, 0, 0);
    }

    /** The prompt followed by its continuation, as text (bos is added before the prompt, special tokens are not shown). */
    public static String complete(LlamaModel model, TextTokenizer tok, String prompt, Options o) {
        int[] p = tok.encode(prompt);
        int[] ids = new int[p.length + 1];
        ids[0] = tok.bosId().orElse(1);
        System.arraycopy(p, 0, ids, 1, p.length);
        int[] gen = continuation(model, ids, o, tok.eosId().orElse(-1));
        int[] all = Arrays.copyOf(ids, ids.length + gen.length);
        System.arraycopy(gen, 0, all, ids.length, gen.length);
        return tok.decode(all);
    }

    /** The generated ids after {@code prompt}, stopping at eos (not included), maxNewTokens, or the model's context length. */
    public static int[] continuation(LlamaModel model, int[] prompt, Options o, int eosId) {
        int limit = Math.min(o.maxNewTokens(), Math.max(0, model.config().maxPositionEmbeddings() - prompt.length));
        return Generator.generate(model, prompt, limit, eosId, o.temperature(), o.seed());
    }
}
