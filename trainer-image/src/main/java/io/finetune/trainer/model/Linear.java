package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import io.finetune.trainer.precision.Autocast;

/**
 * A Hugging Face nn.Linear ({@code name} is its module name, e.g. {@code model.layers.0.self_attn.q_proj}): weight (out, in),
 * optional bias (out). The base weights stay frozen unless a method makes them trainable; an optional {@link LinearAdapter}
 * adds a trainable branch (the extension point for LoRA, DoRA and friends).
 */
public final class Linear {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private LinearAdapter adapter;

    public Linear(String name, Parameter weight, Parameter bias) {
        this.name = name;
        this.weight = weight;
        this.bias = bias;
    }

    public String name() {
        return name;
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null (LLaMA has none; Qwen2 has q/k/v biases). */
    public Parameter bias() {
        return bias;
    }

    public long inFeatures() {
        return weight.array().getShape().get(1);
    }

    public long outFeatures() {
        return weight.array().getShape().get(0);
    }

    public LinearAdapter adapter() {
        return adapter;
    }

    public void setAdapter(LinearAdapter adapter) {
        this.adapter = adapter;
    }

    /** x: (..., in) -> (..., out). */
    public NDArray forward(NDArray x, ForwardContext ctx) {
        NDArray out = base(x);
        return adapter == null ? out : adapter.forward(this, x, out, ctx);
    }

    /** x W^T + b, the frozen path only. */
    public NDArray base(NDArray x) {
        NDArray out = timesTransposed(x, weight.array());
        return bias == null ? out : out.add(bias.array());
    }

    /**
     * x W^T for x (..., in) and W (out, in), through torch's F.linear without bias: the same matmul as
     * {@code x.matMul(w.transpose())} (bit for bit: torch decomposes linear into matmul(x, w.t())), with one JNI call and no
     * Java-side transpose view. Inside a 16-bit {@link Autocast} scope both operands are cast and the product is 16-bit.
     */
    public static NDArray timesTransposed(NDArray x, NDArray w) {
        return Autocast.linear(x, w);
    }
}
