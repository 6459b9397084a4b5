package io.finetune.trainer.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.api.v1alpha1.LoraInit;
import io.finetune.trainer.linalg.Gaussian;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LinearAdapter;
import io.finetune.trainer.model.Parameter;
import java.util.List;
import java.util.SplittableRandom;

/**
 * LoRA (Hu et al. 2021) as PEFT tuners/lora/layer.py: y = base(x) + s * B(A(dropout(x))), A (r, in), B (out, r),
 * s = alpha/r (alpha/sqrt(r) with rsLoRA). A ~ Kaiming-uniform(a=sqrt(5)) = U(+-1/sqrt(in)) or N(0, 1/r); B = 0, so the
 * adapter starts as a no-op.
 */
public class LoraAdapter implements LinearAdapter {
    protected final Parameter loraA;
    protected final Parameter loraB;
    protected final double scaling;
    protected final double dropout;

    public LoraAdapter(Linear base, int rank, double scaling, double dropout, LoraInit init, SplittableRandom rng,
                       NDManager manager) {
        int in = (int) base.inFeatures();
        int out = (int) base.outFeatures();
        float[] a = new float[rank * in];
        double bound = 1.0 / Math.sqrt(in);
        for (int i = 0; i < a.length; i++) {
            a[i] = init == LoraInit.GAUSSIAN ? (float) (Gaussian.next(rng) / rank) : (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        this.loraA = new Parameter(base.name() + ".lora_A.weight", OwnedArrays.create(manager, a, new Shape(rank, in)));
        this.loraB = new Parameter(base.name() + ".lora_B.weight", manager.zeros(new Shape(out, rank)));
        this.scaling = scaling;
        this.dropout = dropout;
        loraA.makeTrainable();
        loraB.makeTrainable();
    }

    /** A saved adapter (A (r, in), B (out, r)), for merging: no dropout, nothing trains. */
    LoraAdapter(Parameter loraA, Parameter loraB, double scaling) {
        this.loraA = loraA;
        this.loraB = loraB;
        this.scaling = scaling;
        this.dropout = 0;
    }

    public Parameter loraA() {
        return loraA;
    }

    public Parameter loraB() {
        return loraB;
    }

    public double scaling() {
        return scaling;
    }

    @Override
    public NDArray forward(Linear base, NDArray x, NDArray baseOut, ForwardContext ctx) {
        NDArray xd = Dropout.apply(x, dropout, ctx);                                      // (..., in)
        NDArray low = Linear.timesTransposed(xd, loraA.array());                           // (..., r)
        return baseOut.add(OwnedArrays.times(Linear.timesTransposed(low, loraB.array()), scaling)); // (..., out)
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(loraA, loraB);
    }

    /** W + s * B A, shape (out, in); a 4-bit W is dequantized first (QLoRA merges into the dequantized base). */
    @Override
    public NDArray mergedWeight(Linear base) {
        NDArray delta = OwnedArrays.times(loraB.array().matMul(loraA.array()), scaling);
        return delta.add(base.frozenWeight(delta.getManager()));
    }
}
