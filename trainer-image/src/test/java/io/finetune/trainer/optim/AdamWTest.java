package io.finetune.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.model.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fused AdamW (libtorch's adamUpdate kernel with torch's bias corrections folded into its step size and epsilon) against
 * torch.optim.AdamW's formula evaluated here in double precision, over steps with changing gradients, two parameter groups
 * (an lr multiplier as LoRA+ uses, weight decay on one of them) and a changing learning rate.
 */
class AdamWTest {
    @Test
    void matchesTorchAdamWFormulaStepByStep() {
        float[] w1 = {0.5f, -1.25f, 2f, 0f, 3e-3f, -0.75f};
        float[] w2 = {1f, -2f, 0.25f, 4f};
        double[][] ref = {toDouble(w1), toDouble(w2)};
        double[][] m = {new double[w1.length], new double[w2.length]};
        double[][] v = {new double[w1.length], new double[w2.length]};
        double[] lrMult = {1, 16};
        double[] decay = {0.1, 0};
        try (NDManager manager = NDManager.newBaseManager()) {
            Parameter p1 = new Parameter("a", OwnedArrays.create(manager, w1, new Shape(2, 3)));
            Parameter p2 = new Parameter("b", OwnedArrays.create(manager, w2, new Shape(4)));
            p1.makeTrainable();
            p2.makeTrainable();
            List<Parameter> params = List.of(p1, p2);
            try (AdamW adam = new AdamW(List.of(new ParamGroup("decayed", List.of(p1), lrMult[0], decay[0]),
                    new ParamGroup("fast", List.of(p2), lrMult[1], decay[1])), manager)) {
                for (int t = 1; t <= 6; t++) {
                    double lr = 1e-2 / t;
                    double[][] grads = new double[2][];
                    try (NDManager sub = manager.newSubManager()) {
                        // loss = sum(w * c): the gradient of each parameter is c, a different vector every step
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray total = null;
                            for (int i = 0; i < 2; i++) {
                                NDArray w = params.get(i).array();
                                float[] c = new float[(int) w.size()];
                                for (int k = 0; k < c.length; k++) {
                                    c[k] = (float) Math.sin(1.7 * t + 0.9 * k + i) * (k == 3 && i == 0 ? 1e-6f : 1f);
                                }
                                grads[i] = toDouble(c);
                                NDArray term = OwnedArrays.create(sub, c, w.getShape()).mul(w).sum(); // result in sub
                                total = total == null ? term : total.add(term);
                            }
                            gc.backward(total);
                        }
                        adam.step(sub, lr);
                    }
                    for (int i = 0; i < 2; i++) {
                        double glr = lr * lrMult[i];
                        double bc1 = 1 - Math.pow(AdamW.BETA1, t);
                        double bc2 = 1 - Math.pow(AdamW.BETA2, t);
                        for (int k = 0; k < ref[i].length; k++) {
                            double g = grads[i][k];
                            ref[i][k] *= 1 - glr * decay[i];
                            m[i][k] = AdamW.BETA1 * m[i][k] + (1 - AdamW.BETA1) * g;
                            v[i][k] = AdamW.BETA2 * v[i][k] + (1 - AdamW.BETA2) * g * g;
                            ref[i][k] -= glr / bc1 * m[i][k] / (Math.sqrt(v[i][k]) / Math.sqrt(bc2) + AdamW.EPS);
                        }
                        float[] got = params.get(i).array().toFloatArray();
                        for (int k = 0; k < got.length; k++) {
                            assertThat((double) got[k]).as("param %d[%d] after step %d", i, k, t)
                                    .isCloseTo(ref[i][k], within(2e-6 * Math.max(1, Math.abs(ref[i][k]))));
                        }
                        // the moments are the optimizer's state: they must match too (checkpoints save them)
                        float[] savedM = adam.state().get(params.get(i).name() + ".exp_avg").data();
                        for (int k = 0; k < savedM.length; k++) {
                            assertThat((double) savedM[k]).isCloseTo(m[i][k], within(1e-6 * Math.max(1e-3, Math.abs(m[i][k]))));
                        }
                    }
                    // the gradients are inputs only: the kernel works on a copy
                    try (NDManager sub = manager.newSubManager()) {
                        NDArray g = p2.array().getGradient();
                        g.attach(sub);
                        assertThat(g.toFloatArray()[0]).isEqualTo((float) grads[1][0]);
                    }
                    for (Parameter p : params) {
                        ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.array());
                    }
                }
            }
            // nothing from the steps outlives them: the two parameters are all that is left once the optimizer is closed
            assertThat(((BaseNDManager) manager).getManagedArrays()).hasSize(2);
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
