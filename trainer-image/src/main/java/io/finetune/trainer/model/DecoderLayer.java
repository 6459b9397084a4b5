package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/** Pre-norm LLaMA block: h = x + attn(norm1(x)); out = h + mlp(norm2(h)). */
public record DecoderLayer(RmsNorm inputLayernorm, Attention selfAttn, RmsNorm postAttentionLayernorm, Mlp mlp) {
    public NDArray forward(NDArray x, NDArray cos, NDArray sin, NDArray mask, ForwardContext ctx) {
        NDArray h = x.add(selfAttn.forward(inputLayernorm.forward(x), cos, sin, mask, ctx));
        return h.add(mlp.forward(postAttentionLayernorm.forward(h), ctx));
    }
}
