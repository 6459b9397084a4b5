package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/** One decoder block: the LLaMA pre-norm block ({@link LlamaDecoderLayer}) or Gemma's ({@link GemmaDecoderLayer}). */
public sealed interface DecoderLayer permits LlamaDecoderLayer, GemmaDecoderLayer {
    /** x: (B, T, d) -> (B, T, d). */
    NDArray forward(NDArray x, LayerInputs in, ForwardContext ctx);

    Attention selfAttn();

    Mlp mlp();

    /** The layer's norms in Hugging Face order (input_layernorm, q_norm and k_norm where present, then the others). */
    List<RmsNorm> norms();

    /** The layer's linear modules in Hugging Face order (attention, then MLP). */
    default List<Linear> linears() {
        List<Linear> all = new ArrayList<>(selfAttn().linears());
        all.addAll(mlp().linears());
        return all;
    }
}
