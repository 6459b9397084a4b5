package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * Gemma's block (transformers Gemma2DecoderLayer, Gemma3DecoderLayer): each sublayer's output is normed again before it
 * joins the residual stream, h = x + post_attn(attn(input(x))); out = h + post_ff(mlp(pre_ff(h))). Every norm is
 * x (1 + w) ({@link RmsNorm#unitOffset}).
 */
public record GemmaDecoderLayer(RmsNorm inputLayernorm, Attention selfAttn, RmsNorm postAttentionLayernorm,
                                RmsNorm preFeedforwardLayernorm, Mlp mlp, RmsNorm postFeedforwardLayernorm)
        implements DecoderLayer {
    @Override
    public NDArray forward(NDArray x, LayerInputs in, ForwardContext ctx) {
        NDArray h = x.add(postAttentionLayernorm.forward(selfAttn.forward(inputLayernorm.forward(x), in, ctx)));
        return h.add(postFeedforwardLayernorm.forward(mlp.forward(preFeedforwardLayernorm.forward(h), ctx)));
    }

    @Override
    public List<RmsNorm> norms() {
        List<RmsNorm> n = new ArrayList<>(List.of(inputLayernorm));
        n.addAll(selfAttn.qkNorms());
        n.addAll(List.of(postAttentionLayernorm, preFeedforwardLayernorm, postFeedforwardLayernorm));
        return n;
    }
}
