package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * The gated feed-forward down(act(gate(x)) * up(x)): SwiGLU (Shazeer 2020; transformers LlamaMLP) with SiLU, GeGLU with
 * the tanh GELU (GemmaMLP). {@code inputs} is gate_proj and up_proj, or Phi-3's one gate_up_proj whose first
 * intermediate_size outputs are the gate and the rest the up projection (Phi3MLP: {@code chunk(2, dim=-1)}).
 */
public record Mlp(List<Linear> inputs, Linear down, HiddenActivation activation) {
    public Mlp {
        inputs = List.copyOf(inputs);
        if (inputs.size() != 1 && inputs.size() != 2) {
            throw new IllegalArgumentException("an MLP takes gate and up, or one fused gate_up, got " + inputs.size());
        }
    }

    /** x: (B, T, d) -> (B, T, d); the hidden activations are (B, T, intermediate). */
    public NDArray forward(NDArray x, ForwardContext ctx) {
        NDArray g;
        NDArray u;
        if (inputs.size() == 2) {
            g = inputs.get(0).forward(x, ctx);
            u = inputs.get(1).forward(x, ctx);
        } else {
            NDArray gu = inputs.get(0).forward(x, ctx);                     // (B, T, 2 intermediate)
            long half = gu.getShape().get(gu.getShape().dimension() - 1) / 2;
            g = gu.get(new NDIndex("..., :{}", half));
            u = gu.get(new NDIndex("..., {}:", half));
        }
        return down.forward(activation.apply(g).mul(u), ctx);
    }

    /** gate, up (or gate_up), down. */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(inputs);
        all.add(down);
        return all;
    }
}
