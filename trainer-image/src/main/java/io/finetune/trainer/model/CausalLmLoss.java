package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.precision.Autocast;
import io.finetune.trainer.precision.ComputePrecision;
import java.util.ArrayList;
import java.util.List;

/**
 * Shifted next-token cross-entropy (transformers ForCausalLMLoss): position t predicts label t+1; labels -100, padding, and
 * pairs that cross a packed-record boundary are ignored. Returns the SUM over counted tokens, so gradient accumulation can
 * divide by the step's total token count.
 *
 * <h2>Chunked lm_head + loss</h2>
 * With a real vocabulary the (B, T, V) fp32 logits dominate a step's memory (stories15M, V = 32000: 8 x 256 tokens hold
 * 262 MB of logits, and autograd keeps the logits, their log-softmax and their gradient alive at once). {@link #sum(NDManager,
 * LlamaModel, Batch, ForwardContext)} therefore never materialises them: it runs the lm_head and the loss over
 * {@code chunkTokens} rows at a time on detached copies of the final hidden states h and the lm_head weight W, and computes
 * the gradients by hand (the fused cross-entropy of Liger-Kernel / Apple's Cut Cross-Entropy, written with plain ops):
 * <pre>
 *   dL/dlogits = (softmax(logits) - onehot(target)) * w      (w = 1 for counted tokens, 0 otherwise)
 *   dL/dh      = dL/dlogits @ W                               (C, d) per chunk, concatenated
 *   dL/dW      = sum over chunks of dL/dlogits^T @ h_chunk     (V, d), only when W is trainable (Full; tied: embed_tokens)
 * </pre>
 * With Gemma 2's final soft-capping the logits are c tanh(z / c) of the raw products z, and dL/dz is dL/dlogits times
 * (1 - tanh^2(z / c)) before the two products above.
 * Only one chunk's (C, V) arrays exist at a time. The result is handed back to autograd as
 * {@code loss + (S - detach(S))} with the surrogate {@code S = sum(h * dL/dh) + sum(W * dL/dW)}: its value is the loss
 * (S - S is exactly 0) and its gradient with respect to h and W is exactly the hand-computed one, so the caller's
 * {@code backward} (after any division by the token count or loss-scale multiplication) propagates the right gradients into
 * the rest of the graph.
 *
 * <p>The chunked path runs when the model computes in fp32 and the lm_head is a plain bias-free linear layer (no adapter,
 * the all-linear default excludes lm_head as PEFT does) and the batch has more than one chunk of tokens; otherwise the
 * model's own lm_head builds the full logits as before.
 * {@value #CHUNK_PROPERTY} sets the chunk size in tokens (0 turns chunking off; bench/run.sh compares both).
 */
public final class CausalLmLoss {
    /** System property: tokens per lm_head/loss chunk; 0 computes the full (B, T, V) logits. */
    public static final String CHUNK_PROPERTY = "finetune.lossChunkTokens";
    /** 256 tokens x 32000 x 4 bytes = 33 MB per chunk array on a 32k vocabulary; large enough to keep the matmuls efficient. */
    public static final int DEFAULT_CHUNK_TOKENS = 256;

    private CausalLmLoss() {
    }

    /** The chunk size from {@value #CHUNK_PROPERTY} (default {@value #DEFAULT_CHUNK_TOKENS}). */
    public static int chunkTokens() {
        return Integer.getInteger(CHUNK_PROPERTY, DEFAULT_CHUNK_TOKENS);
    }

    /** The model's summed loss on the batch, chunked as the class comment says with {@link #chunkTokens()}. */
    public static NDArray sum(NDManager sub, LlamaModel model, Batch batch, ForwardContext ctx) {
        return sum(sub, model, batch, ctx, chunkTokens());
    }

    /** As {@link #sum(NDManager, LlamaModel, Batch, ForwardContext)} with an explicit chunk size (0: unchunked). */
    public static NDArray sum(NDManager sub, LlamaModel model, Batch batch, ForwardContext ctx, int chunkTokens) {
        return sumOfHidden(sub, model, model.hidden(sub, batch, ctx), batch, ctx, chunkTokens);
    }

    /** The summed loss from the final normed hidden states (B, T, d), chunked as {@link #sum}. */
    static NDArray sumOfHidden(NDManager sub, LlamaModel model, NDArray hidden, Batch batch, ForwardContext ctx,
                               int chunkTokens) {
        // One chunk would hold the whole logits anyway: the plain path then, as before chunking existed.
        if (chunkTokens <= 0 || batch.batchSize() * batch.seqLen() <= chunkTokens || !chunkable(model)
                || hidden.getDataType() != DataType.FLOAT32) {
            return sum(sub, model.logits(hidden, ctx), batch);
        }
        return chunked(sub, hidden, model.lmHead().weight().array(), batch, chunkTokens,
                model.config().options().finalLogitSoftcapping());
    }

    /** Whether the chunked path applies: fp32 compute and a plain bias-free lm_head without an adapter. */
    public static boolean chunkable(LlamaModel model) {
        Linear head = model.lmHead();
        return head.adapter() == null && head.bias() == null && model.precision() == ComputePrecision.FP32
                && head.weight().array().getDataType() == DataType.FLOAT32;
    }

    /** logits: (B, T, V) -> scalar sum of -log p(target). */
    public static NDArray sum(NDManager sub, NDArray logits, Batch batch) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        Targets tw = targets(batch);
        NDArray idx = OwnedArrays.create(sub, tw.target, new Shape(b, t, 1));
        NDArray w = OwnedArrays.create(sub, tw.weight, new Shape(b, t, 1));
        NDArray logp = Autocast.toFloat(logits).logSoftmax(-1).gather(idx, -1); // (B, T, 1)
        return logp.mul(w).sum().neg();
    }

    private record Targets(long[] target, float[] weight) {
    }

    private static Targets targets(Batch batch) {
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
        return new Targets(target, weight);
    }

    /** {@code cap}: the final logit soft-capping c, 0 for none. */
    private static NDArray chunked(NDManager sub, NDArray hidden, NDArray weight, Batch batch, int chunkTokens,
                                   double cap) {
        int n = batch.batchSize() * batch.seqLen();
        long d = hidden.getShape().get(2);
        long vocab = weight.getShape().get(0);
        Targets tw = targets(batch);
        NDArray target = OwnedArrays.create(sub, tw.target, new Shape(n, 1));
        NDArray mask = OwnedArrays.create(sub, tw.weight, new Shape(n, 1));
        // Inside a GradientCollector (grad mode on) every method has trainable parameters upstream of h; DJL reports
        // requires_grad false for a non-leaf result, so grad mode is the test for h. W is a leaf: its own flag.
        boolean needH = JniUtils.isGradMode();
        boolean needW = needH && JniUtils.requiresGrad((PtNDArray) weight);
        NDArray h = hidden.stopGradient().reshape(n, d); // detached: nothing below is recorded by autograd
        NDArray wd = weight.stopGradient();
        h.attach(sub);
        wd.attach(sub);
        NDArray loss = sub.zeros(new Shape());
        NDArray gradW = needW ? sub.zeros(new Shape(vocab, d)) : null;
        List<NDArray> gradH = new ArrayList<>();
        for (int start = 0; start < n; start += chunkTokens) {
            NDIndex rows = new NDIndex("{}:{}", start, Math.min(n, start + chunkTokens));
            try (NDManager c = sub.newSubManager()) {
                NDArray hc = h.get(rows);
                hc.attach(c);
                NDArray tc = target.get(rows);
                NDArray mc = mask.get(rows);
                tc.attach(c);
                mc.attach(c);
                // At most three (C, V) arrays live at once: each is closed or updated in place as soon as it is used.
                NDArray logits = Linear.timesTransposed(hc, wd); // (C, V), fp32
                NDArray capSlope = null;                          // (C, V): d logits / d z = 1 - tanh^2(z / c)
                if (cap > 0) {
                    NDArray t = OwnedArrays.dividedBy(logits, cap).tanh();
                    logits.close();
                    logits = OwnedArrays.times(t, cap);
                    if (needH || needW) {
                        capSlope = OwnedArrays.minus(t.square(), 1).neg();
                    }
                    t.close();
                }
                NDArray logp = logits.logSoftmax(-1);
                logits.close();
                NDArray part = logp.gather(tc, -1).mul(mc).sum().neg();
                loss.addi(part);
                if (needH || needW) {
                    NDArray dLogits = logp.exp();
                    logp.close();
                    NDArray oneHot = tc.squeeze(-1).oneHot((int) vocab);
                    dLogits.subi(oneHot).muli(mc); // (C, V): softmax - onehot, zero for uncounted tokens
                    oneHot.close();
                    if (capSlope != null) {
                        dLogits.muli(capSlope);    // through the soft-capping to the raw products
                        capSlope.close();
                    }
                    if (needH) {
                        NDArray dh = dLogits.matMul(wd);
                        dh.attach(sub);
                        gradH.add(dh);
                    }
                    if (needW) {
                        gradW.addi(dLogits.transpose().matMul(hc));
                    }
                }
            }
        }
        if (!needH && !needW) {
            return loss;
        }
        NDArray surrogate = null;
        if (needH) {
            NDArray g = gradH.size() == 1 ? gradH.get(0) : NDArrays.concat(new NDList(gradH), 0);
            surrogate = hidden.mul(g.reshape(hidden.getShape())).sum();
        }
        if (needW) {
            NDArray sw = weight.mul(gradW).sum();
            surrogate = surrogate == null ? sw : surrogate.add(sw);
        }
        return loss.add(surrogate.sub(surrogate.stopGradient()));
    }
}
