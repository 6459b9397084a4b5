package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import io.finetune.trainer.arrays.OwnedArrays;
import java.util.Arrays;
import java.util.Optional;

/**
 * The gated MLP's activation, by the name transformers' ACT2FN gives it (config.json {@code hidden_act}, Gemma's
 * {@code hidden_activation}): SiLU for LLaMA, Mistral, Qwen and Phi-3; the tanh approximation of GELU
 * (Hendrycks and Gimpel 2016; torch's {@code gelu(approximate="tanh")}) for Gemma 2 and 3.
 */
public enum HiddenActivation {
    SILU("silu"),
    GELU_TANH("gelu_pytorch_tanh");

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private final String hfName;

    HiddenActivation(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    public static Optional<HiddenActivation> of(String hfName) {
        return Arrays.stream(values()).filter(a -> a.hfName.equals(hfName)).findFirst();
    }

    /** x: (...) -> act(x), same shape. */
    public NDArray apply(NDArray x) {
        return switch (this) {
            case SILU -> x.mul(Activation.sigmoid(x));
            // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            case GELU_TANH -> {
                NDArray inner = OwnedArrays.times(x.add(OwnedArrays.times(x.pow(OwnedArrays.scalar(x.getManager(), 3)),
                        0.044715)), SQRT_2_OVER_PI);
                yield OwnedArrays.times(x, 0.5).mul(OwnedArrays.plus(inner.tanh(), 1));
            }
        };
    }
}
