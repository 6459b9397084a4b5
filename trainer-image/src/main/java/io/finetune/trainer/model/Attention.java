package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.precision.Autocast;

/**
 * Grouped-query self-attention (Ainslie et al. 2023) as transformers LlamaAttention: q/k/v projections, RoPE on q and k,
 * each key/value head shared by numHeads/numKvHeads query heads (repeat_kv), softmax(q k^T / sqrt(d) + mask) v, o_proj.
 * Qwen3 (Qwen3Attention) normalises each head of q and k with an RMSNorm over head_dim before RoPE; {@code qNorm} and
 * {@code kNorm} are null for the families without.
 */
public final class Attention {
    private final ModelConfig config;
    final Linear q;
    final Linear k;
    final Linear v;
    final Linear o;
    final RmsNorm qNorm;
    final RmsNorm kNorm;

    public Attention(ModelConfig config, Linear q, Linear k, Linear v, Linear o, RmsNorm qNorm, RmsNorm kNorm) {
        this.config = config;
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.qNorm = qNorm;
        this.kNorm = kNorm;
    }

    /** x: (B, T, d); cos/sin: (B, 1, T, hd); mask: (B, 1, T, T) -> (B, T, d). */
    public NDArray forward(NDArray x, NDArray cos, NDArray sin, NDArray mask, ForwardContext ctx) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int hd = config.headDim();
        NDArray qh = perHead(q.forward(x, ctx).reshape(b, t, heads, hd), qNorm).transpose(0, 2, 1, 3);   // (B, H, T, hd)
        NDArray kh = perHead(k.forward(x, ctx).reshape(b, t, kvHeads, hd), kNorm).transpose(0, 2, 1, 3); // (B, KV, T, hd)
        NDArray vh = v.forward(x, ctx).reshape(b, t, kvHeads, hd).transpose(0, 2, 1, 3); // (B, KV, T, hd)
        qh = RotaryEmbedding.apply(qh, cos, sin);
        kh = RotaryEmbedding.apply(kh, cos, sin);
        kh = repeatKv(kh, heads / kvHeads); // (B, H, T, hd)
        vh = repeatKv(vh, heads / kvHeads);
        // Under 16-bit autocast both matmuls run in 16 bits; the fp32 mask promotes the scores, so softmax is fp32.
        NDArray qk = Autocast.matMul(qh, kh.transpose(0, 1, 3, 2));                           // (B, H, T, T)
        NDArray scores = OwnedArrays.times(qk, 1.0 / Math.sqrt(hd)).add(mask);                 // (B, H, T, T)
        NDArray ctxv = Autocast.matMul(scores.softmax(-1), vh);                                // (B, H, T, hd)
        return o.forward(ctxv.transpose(0, 2, 1, 3).reshape(b, t, (long) heads * hd), ctx);    // (B, T, d)
    }

    /** (B, T, heads, hd), normed over hd when the family has q/k norms (Qwen3), else unchanged. */
    private static NDArray perHead(NDArray x, RmsNorm norm) {
        return norm == null ? x : norm.forward(x);
    }

    /** (B, KV, T, hd) -> (B, KV*n, T, hd), kv head j serving query heads j*n .. j*n+n-1. */
    private static NDArray repeatKv(NDArray x, int n) {
        if (n == 1) {
            return x;
        }
        long[] s = x.getShape().getShape();
        return x.expandDims(2).broadcast(s[0], s[1], n, s[2], s[3]).reshape(s[0], s[1] * n, s[2], s[3]);
    }
}
