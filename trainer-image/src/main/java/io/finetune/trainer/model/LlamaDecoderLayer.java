package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/** Pre-norm LLaMA block (LlamaDecoderLayer, also Mistral, Qwen, Phi-3): h = x + attn(norm1(x)); out = h + mlp(norm2(h)). */
public record LlamaDecoderLayer(RmsNorm inputLayernorm, Attention selfAttn, RmsNorm postAttentionLayernorm, Mlp mlp)
        implements DecoderLayer {
    @Override
    public NDArray forward(NDArray x, LayerInputs in, ForwardContext ctx) {
        NDArray h = x.add(selfAttn.forward(inputLayernorm.forward(x), in, ctx));
        return h.add(mlp.forward(postAttentionLayernorm.forward(h), ctx));
    }

    @Override
    public List<RmsNorm> norms() {
        List<RmsNorm> n = new ArrayList<>(List.of(inputLayernorm));
        n.addAll(selfAttn.qkNorms());
        n.add(postAttentionLayernorm);
        return n;
    }
}
