package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** SwiGLU feed-forward (Shazeer 2020; transformers LlamaMLP): down(silu(gate(x)) * up(x)). */
public record Mlp(Linear gate, Linear up, Linear down) {
    /** x: (B, T, d) -> (B, T, d); the hidden activations are (B, T, intermediate). */
    public NDArray forward(NDArray x, ForwardContext ctx) {
        NDArray g = gate.forward(x, ctx);
        NDArray silu = g.mul(Activation.sigmoid(g));
        return down.forward(silu.mul(up.forward(x, ctx)), ctx);
    }
}
