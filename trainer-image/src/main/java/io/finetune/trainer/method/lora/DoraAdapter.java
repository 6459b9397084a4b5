package io.finetune.trainer.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraInit;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.Parameter;
import java.util.List;
import java.util.SplittableRandom;

/**
 * DoRA (Liu et al. 2024, arXiv 2402.09353) as PEFT tuners/lora/dora.py + variants.DoraLinearVariant: W' = m · V / ||V||_row
 * with V = W + s·B·A. The magnitude m (out) starts at ||W + s·B·A||_row, computed by the same op as the forward, so the layer
 * is an exact no-op at init. The norm n is computed from the detached LoRA weight and treated as a constant in backward
 * (paper §4.3), so gradients reach m directly and A, B through the direction only:
 * <pre>
 *   g = m / n                                   (out)
 *   y = base(x) + (g - 1)·(x_d W^T) + g·s·B A x_d     with x_d = dropout(x); x_d W^T = base(x) - b without dropout
 * </pre>
 */
public final class DoraAdapter extends LoraAdapter {
    private final Parameter magnitude;

    public DoraAdapter(Linear base, int rank, double scaling, double dropout, LoraInit init, SplittableRandom rng,
                       NDManager manager) {
        super(base, rank, scaling, dropout, init, rng, manager);
        NDArray norm;
        try (NDManager scratch = manager.newSubManager()) {
            scratch.tempAttachAll(loraA.array(), loraB.array());
            if (base.weight() != null) {
                scratch.tempAttachAll(base.weight().array());
            }
            norm = weightNorm(base);
            norm.attach(manager);
        }
        this.magnitude = new Parameter(base.name() + ".lora_magnitude_vector", norm);
        magnitude.makeTrainable();
    }

    /** A saved DoRA adapter with its magnitude (out), for merging. */
    DoraAdapter(Parameter loraA, Parameter loraB, Parameter magnitude, double scaling) {
        super(loraA, loraB, scaling);
        this.magnitude = magnitude;
    }

    /**
     * ||W + s·B·A|| over the input dimension, (out), with no gradient path (paper §4.3). The (out, in) temporaries are
     * closed here rather than at the end of the step: for a 4-bit base they would otherwise hold a dequantized-size copy
     * per layer until then.
     */
    private NDArray weightNorm(Linear base) {
        NDArray delta = loraB.array().stopGradient().matMul(loraA.array().stopGradient());                    // (out, in)
        delta.muli(OwnedArrays.scalar(delta.getManager(), scaling));
        NDArray frozen = base.frozenWeight(delta.getManager());
        NDArray w = delta.addi(frozen);                                                                      // (out, in)
        if (base.weight() == null) {
            frozen.close(); // a dequantized copy
        }
        NDArray squared = w.square();                                                                        // (out, in)
        NDArray norm = squared.sum(new int[] {1}).sqrt().stopGradient();                                     // (out)
        squared.close();
        w.close();
        return norm;
    }

    public Parameter magnitude() {
        return magnitude;
    }

    @Override
    public NDArray forward(Linear base, NDArray x, NDArray baseOut, ForwardContext ctx) {
        NDArray xd = Dropout.apply(x, dropout, ctx);                                        // (..., in)
        NDArray lora = Linear.timesTransposed(Linear.timesTransposed(xd, loraA.array()), loraB.array()); // (..., out)
        NDArray scale = magnitude.array().div(weightNorm(base));                             // (out)
        NDArray direct;                                                                     // x_d W^T, (..., out)
        if (xd == x) {
            direct = base.bias() == null ? baseOut : baseOut.sub(base.bias().array());
        } else {
            direct = base.timesWeight(xd);
        }
        return baseOut.add(direct.mul(OwnedArrays.minus(scale, 1))).add(OwnedArrays.times(lora.mul(scale), scaling));
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(loraA, loraB, magnitude);
    }

    /** (m / n)[:, None] · (W + s·B·A), (out, in) (PEFT DoraLinearLayer merge). */
    @Override
    public NDArray mergedWeight(Linear base) {
        NDArray delta = OwnedArrays.times(loraB.array().matMul(loraA.array()), scaling);          // (out, in)
        NDArray v = delta.add(base.frozenWeight(delta.getManager()));
        NDArray scale = magnitude.array().div(weightNorm(base)).reshape(-1, 1);                 // (out, 1)
        return v.mul(scale);
    }
}
