package io.finetune.trainer.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.model.ForwardContext;
import java.util.SplittableRandom;

/** Inverted dropout whose mask is drawn in Java from the forward context's seed (repeatable across resume). */
public final class Dropout {
    private Dropout() {
    }

    public static NDArray apply(NDArray x, double p, ForwardContext ctx) {
        if (p <= 0 || !ctx.training()) {
            return x;
        }
        Shape shape = x.getShape();
        float[] mask = new float[(int) shape.size()];
        SplittableRandom rng = ctx.nextRandom();
        float keep = (float) (1.0 / (1.0 - p));
        for (int i = 0; i < mask.length; i++) {
            mask[i] = rng.nextDouble() < p ? 0f : keep;
        }
        return x.mul(OwnedArrays.create(x.getManager(), mask, shape));
    }
}
