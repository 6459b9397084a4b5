package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.precision.Autocast;
import java.util.ArrayList;
import java.util.List;

/**
 * Grouped-query self-attention (Ainslie et al. 2023) as transformers LlamaAttention: q/k/v projections, RoPE on q and k,
 * each key/value head shared by numHeads/numKvHeads query heads (repeat_kv), softmax(q k^T s + mask) v, o_proj. The
 * variants: Phi-3 projects q, k and v with one {@code qkv_proj} (rows q, then k, then v) and may rotate only part of each
 * head; Qwen3 and Gemma 3 normalise each head of q and k over head_dim before RoPE ({@code qNorm}, {@code kNorm}, null for
 * the others); Gemma scales by query_pre_attn_scalar^-1/2 instead of head_dim^-1/2 and Gemma 2 soft-caps the scores
 * (tanh(x / c) c) before the mask ({@link FamilyOptions}).
 */
public final class Attention {
    private final ModelConfig config;
    private final List<Linear> qkv;
    final Linear o;
    final RmsNorm qNorm;
    final RmsNorm kNorm;

    /** {@code qkv}: q_proj, k_proj, v_proj, or the one fused qkv_proj. */
    public Attention(ModelConfig config, List<Linear> qkv, Linear o, RmsNorm qNorm, RmsNorm kNorm) {
        if (qkv.size() != 1 && qkv.size() != 3) {
            throw new IllegalArgumentException("attention takes q, k and v, or one fused qkv, got " + qkv.size());
        }
        this.config = config;
        this.qkv = List.copyOf(qkv);
        this.o = o;
        this.qNorm = qNorm;
        this.kNorm = kNorm;
    }

    /** x: (B, T, d); in: the layer's RoPE tables and mask -> (B, T, d). */
    public NDArray forward(NDArray x, LayerInputs in, ForwardContext ctx) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int hd = config.headDim();
        NDArray[] p = project(x, ctx); // (B, T, H*hd), (B, T, KV*hd), (B, T, KV*hd)
        NDArray qh = perHead(p[0].reshape(b, t, heads, hd), qNorm).transpose(0, 2, 1, 3);   // (B, H, T, hd)
        NDArray kh = perHead(p[1].reshape(b, t, kvHeads, hd), kNorm).transpose(0, 2, 1, 3); // (B, KV, T, hd)
        NDArray vh = p[2].reshape(b, t, kvHeads, hd).transpose(0, 2, 1, 3);                 // (B, KV, T, hd)
        qh = RotaryEmbedding.apply(qh, in.cos(), in.sin());
        kh = RotaryEmbedding.apply(kh, in.cos(), in.sin());
        kh = repeatKv(kh, heads / kvHeads); // (B, H, T, hd)
        vh = repeatKv(vh, heads / kvHeads);
        // Under 16-bit autocast both matmuls run in 16 bits; the fp32 mask promotes the scores, so softmax is fp32.
        NDArray qk = Autocast.matMul(qh, kh.transpose(0, 1, 3, 2));                             // (B, H, T, T)
        NDArray scores = OwnedArrays.times(qk, config.options().attentionScale(hd));            // (B, H, T, T)
        double cap = config.options().attnLogitSoftcapping();
        if (cap > 0) {
            scores = OwnedArrays.times(OwnedArrays.dividedBy(scores, cap).tanh(), cap);
        }
        NDArray ctxv = Autocast.matMul(scores.add(in.mask()).softmax(-1), vh);                  // (B, H, T, hd)
        return o.forward(ctxv.transpose(0, 2, 1, 3).reshape(b, t, (long) heads * hd), ctx);      // (B, T, d)
    }

    /** q, k, v as (B, T, features): three projections, or one fused projection sliced by rows as Phi3Attention does. */
    private NDArray[] project(NDArray x, ForwardContext ctx) {
        if (qkv.size() == 3) {
            return new NDArray[] {qkv.get(0).forward(x, ctx), qkv.get(1).forward(x, ctx), qkv.get(2).forward(x, ctx)};
        }
        long qDim = (long) config.numAttentionHeads() * config.headDim();
        long kvDim = config.kvDim();
        NDArray all = qkv.get(0).forward(x, ctx);                                                // (B, T, q + 2 kv)
        return new NDArray[] {all.get(new NDIndex("..., :{}", qDim)),
            all.get(new NDIndex("..., {}:{}", qDim, qDim + kvDim)), all.get(new NDIndex("..., {}:", qDim + kvDim))};
    }

    /** The projections in Hugging Face order: q_proj, k_proj, v_proj (or qkv_proj), o_proj. */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(qkv);
        all.add(o);
        return all;
    }

    /** q_norm and k_norm, or none. */
    List<RmsNorm> qkNorms() {
        return qNorm == null ? List.of() : List.of(qNorm, kNorm);
    }

    /** (B, T, heads, hd), normed over hd when the family has q/k norms (Qwen3, Gemma 3), else unchanged. */
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
