package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.precision.Autocast;
import io.finetune.trainer.quant.QuantizedWeight;

/**
 * A Hugging Face nn.Linear ({@code name} is its module name, e.g. {@code model.layers.0.self_attn.q_proj}): weight (out, in),
 * optional bias (out). The base weights stay frozen unless a method makes them trainable; an optional {@link LinearAdapter}
 * adds a trainable branch (the extension point for LoRA, DoRA and friends). A quantized layer (QLoRA) holds its frozen
 * weight only in 4 bits ({@link QuantizedWeight}) and has no weight {@link Parameter}: every use dequantizes it into the
 * caller's manager ({@link #frozenWeight}).
 */
public final class Linear {
    private final String name;
    private final Parameter weight;
    private final QuantizedWeight quantized;
    private final Parameter bias;
    private LinearAdapter adapter;

    public Linear(String name, Parameter weight, Parameter bias) {
        this(name, weight, null, bias);
    }

    private Linear(String name, Parameter weight, QuantizedWeight quantized, Parameter bias) {
        this.name = name;
        this.weight = weight;
        this.quantized = quantized;
        this.bias = bias;
    }

    /** A frozen layer whose weight is held in 4 bits. */
    public static Linear quantized(String name, QuantizedWeight weight, Parameter bias) {
        return new Linear(name, null, weight, bias);
    }

    public String name() {
        return name;
    }

    /** The weight parameter; null for a {@link #quantized} layer (see {@link #frozenWeight}). */
    public Parameter weight() {
        return weight;
    }

    /** The 4-bit weight, or null when the weight is a plain {@link Parameter}. */
    public QuantizedWeight quantizedWeight() {
        return quantized;
    }

    /** The Hugging Face name of the weight tensor ({@code <module>.weight}). */
    public String weightName() {
        return name + ".weight";
    }

    /**
     * The weight (out, in) as the forward uses it: the parameter's array, or the 4-bit weight dequantized into {@code sub}
     * (float32, no gradient path; the caller's manager owns it).
     */
    public NDArray frozenWeight(NDManager sub) {
        return quantized == null ? weight.array() : quantized.dequantize(sub);
    }

    /** The bias, or null (LLaMA has none; Qwen2 has q/k/v biases). */
    public Parameter bias() {
        return bias;
    }

    public long inFeatures() {
        return shape().get(1);
    }

    public long outFeatures() {
        return shape().get(0);
    }

    private Shape shape() {
        return quantized == null ? weight.array().getShape() : quantized.shape();
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
        NDArray out = timesWeight(x);
        return bias == null ? out : out.add(bias.array());
    }

    /**
     * x W^T without the bias. A 4-bit weight is dequantized for this product only and its handle closed at once: outside
     * autograd its memory is freed before the next layer runs; under autograd libtorch keeps the (autocast) weight the
     * product saved for the input gradient until backward has used it, which is why training a 4-bit model runs each
     * layer's forward again in the backward ({@link LayerwiseRecompute}: DJL has no custom autograd function with which
     * the backward alone could dequantize it again).
     */
    public NDArray timesWeight(NDArray x) {
        if (quantized == null) {
            return timesTransposed(x, weight.array());
        }
        NDArray w = quantized.dequantize(x.getManager());
        try {
            return timesTransposed(x, w);
        } finally {
            w.close();
        }
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
