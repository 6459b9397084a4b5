package io.finetune.trainer.method.galore;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.TensorStorage;
import io.finetune.trainer.linalg.LinearAlgebra;
import io.finetune.trainer.linalg.Matrices;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.optim.AdamWSettings;
import io.finetune.trainer.spec.GaloreSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GaLore-AdamW steps against a plain-Java reference of galore_torch/adamw.py. */
class GaloreAdamWTest {
    private static final double[] SPECTRUM = {5, 3, 2, 1, 0.5, 0.25};
    private static LinearAlgebra linalg;
    private static NDManager manager;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager("PyTorch");
        linalg = new LinearAlgebra();
    }

    @AfterAll
    static void unload() {
        linalg.close();
        manager.close();
    }

    private static double[][] weights(int m, int n) {
        double[][] w = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                w[i][j] = Math.sin(i * 1.3 + j * 0.7);
            }
        }
        return w;
    }

    /** Reference Adam step in the compact space, in doubles. Mutates w, mom, sq. basisRows: Q (r, n) rows. */
    private static void referenceStep(double[][] w, double[][] g, double[][] q, double[][] mom, double[][] sq, int t,
                                      double lr, double scale, AdamWSettings a) {
        double[][] r = Matrices.multiply(g, Matrices.transpose(q)); // (m, r)
        double[][] n = new double[r.length][r[0].length];
        for (int i = 0; i < r.length; i++) {
            for (int j = 0; j < r[0].length; j++) {
                mom[i][j] = a.beta1() * mom[i][j] + (1 - a.beta1()) * r[i][j];
                sq[i][j] = a.beta2() * sq[i][j] + (1 - a.beta2()) * r[i][j] * r[i][j];
                n[i][j] = mom[i][j] / (Math.sqrt(sq[i][j]) + a.eps());
            }
        }
        double stepSize = lr * Math.sqrt(1 - Math.pow(a.beta2(), t)) / (1 - Math.pow(a.beta1(), t));
        double[][] back = Matrices.multiply(n, q); // (m, n)
        for (int i = 0; i < w.length; i++) {
            for (int j = 0; j < w[0].length; j++) {
                w[i][j] -= stepSize * scale * back[i][j];
                w[i][j] -= lr * a.weightDecay() * w[i][j];
            }
        }
    }

    @Test
    void firstStepMatchesHandComputedReference() {
        int m = 12;
        int n = 8;
        int rank = 3;
        AdamWSettings adam = new AdamWSettings(0.9f, 0.999f, 1e-6f, 0.1f);
        double[][] a = Matrices.orthonormalColumns(m, SPECTRUM.length, 21);
        double[][] b = Matrices.orthonormalColumns(n, SPECTRUM.length, 22);
        double[][] g = Matrices.compose(a, SPECTRUM, b);
        double[][] w = weights(m, n);
        try (NDManager scratch = manager.newSubManager();
             GaloreAdamW opt = new GaloreAdamW(manager, new Shape(m, n), new GaloreSettings(rank, 200, 0.25f), adam, linalg, 1)) {
            NDArray weight = scratch.create(Matrices.flat(w), new Shape(m, n));
            NDArray grad = scratch.create(Matrices.flat(g), new Shape(m, n));
            opt.step(weight, grad, 0.01f);
            // The true top-3 right singular vectors; the update is invariant to their signs.
            double[][] q = Matrices.transpose(Matrices.leftColumns(b, rank));
            referenceStep(w, g, q, new double[m][rank], new double[m][rank], 1, 0.01, 0.25, adam);
            assertThat(Matrices.maxAbsDiff(Matrices.unflat(weight.toFloatArray(), m, n), w)).isLessThan(2e-6);
        }
    }

    @Test
    void momentsCarryOverWhenTheSubspaceIsRefreshed() {
        int m = 6;
        int n = 14; // wide: LEFT projector P (m, r), moments (r, n)
        int rank = 2;
        AdamWSettings adam = new AdamWSettings(0.9f, 0.99f, 1e-6f, 0f);
        try (NDManager scratch = manager.newSubManager();
             GaloreAdamW opt = new GaloreAdamW(manager, new Shape(m, n), new GaloreSettings(rank, 2, 1f), adam, linalg, 1)) {
            double[][] w = weights(m, n);
            NDArray weight = scratch.create(Matrices.flat(w), new Shape(m, n));
            // Work on the transpose so the reference can use the RIGHT form: (P^T G)^T = G^T P.
            double[][] momT = new double[n][rank];
            double[][] sqT = new double[n][rank];
            double[][] wT = Matrices.transpose(w);
            float[] previousBasis = null;
            for (int t = 0; t < 3; t++) {
                double[][] g = Matrices.compose(Matrices.orthonormalColumns(m, 5, 40 + t), new double[] {4, 3, 1, 0.5, 0.1},
                        Matrices.orthonormalColumns(n, 5, 60 + t));
                NDArray grad = scratch.create(Matrices.flat(g), new Shape(m, n));
                opt.step(weight, grad, 0.05f);
                float[] basis = opt.projector().basis().toFloatArray();
                if (t == 1) {
                    assertThat(basis).as("no refresh between multiples of the gap").isEqualTo(previousBasis);
                } else if (t == 2) {
                    assertThat(basis).as("refresh at step 2 = gap").isNotEqualTo(previousBasis);
                }
                previousBasis = basis;
                double[][] q = Matrices.transpose(Matrices.unflat(basis, m, rank)); // P^T (r, m)
                referenceStep(wT, Matrices.transpose(g), q, momT, sqT, t + 1, 0.05, 1.0, adam);
            }
            assertThat(Matrices.maxAbsDiff(Matrices.unflat(weight.toFloatArray(), m, n), Matrices.transpose(wT)))
                    .isLessThan(5e-6);
            // Moments were not reset: the reference keeps them across the refresh, and they are still non-zero for both bases.
            assertThat(Matrices.maxAbsDiff(Matrices.unflat(opt.stateArrays().get("exp_avg").toFloatArray(), rank, n),
                    Matrices.transpose(momT))).isLessThan(1e-5);
        }
    }

    @Test
    void optimizerStateBytesFollowTheGaloreFormula() {
        int[][] shapes = {{64, 24}, {24, 64}, {16, 16}};
        int rank = 4;
        for (int[] s : shapes) {
            try (NDManager scratch = manager.newSubManager();
                 GaloreAdamW opt = new GaloreAdamW(manager, new Shape(s[0], s[1]), new GaloreSettings(rank, 10, 1f),
                         AdamWSettings.defaults(), linalg, 1)) {
                NDArray weight = scratch.randomNormal(new Shape(s[0], s[1]));
                opt.step(weight, scratch.randomNormal(new Shape(s[0], s[1])), 1e-3f);
                long expected = 4L * (2L * rank * Math.max(s[0], s[1]) + (long) rank * Math.min(s[0], s[1]));
                assertThat(opt.stateBytes()).as("shape %dx%d", s[0], s[1]).isEqualTo(expected);
                // Far below full AdamW's 2·m·n.
                assertThat(opt.stateBytes()).isLessThan(4L * 2 * s[0] * s[1]);
            }
        }
    }

    @Test
    void restoreGivesBackEveryStateTensorBitForBitInTheSameLayout() {
        for (Shape shape : new Shape[] {new Shape(20, 12), new Shape(6, 14)}) { // RIGHT and LEFT projector
            GaloreSettings settings = new GaloreSettings(3, 2, 0.5f);
            try (NDManager scratch = manager.newSubManager();
                 GaloreAdamW straight = new GaloreAdamW(manager, shape, settings, AdamWSettings.defaults(), linalg, 7);
                 GaloreAdamW resumed = new GaloreAdamW(manager, shape, settings, AdamWSettings.defaults(), linalg, 7)) {
                NDArray w = scratch.randomNormal(shape);
                for (int i = 0; i < 3; i++) { // refreshes at steps 0 and 2
                    straight.step(w, scratch.randomNormal(shape), 1e-2f);
                }
                var saved = straight.stateArrays();
                resumed.restore(saved.get("exp_avg").toFloatArray(), saved.get("exp_avg_sq").toFloatArray(),
                        saved.get("projector").toFloatArray(), straight.steps());
                assertThat(resumed.steps()).as("step counter: bias correction and the refresh schedule").isEqualTo(3);
                var restored = resumed.stateArrays();
                assertThat(restored.keySet()).containsExactly("exp_avg", "exp_avg_sq", "projector");
                for (String role : saved.keySet()) {
                    NDArray a = saved.get(role);
                    NDArray b = restored.get(role);
                    assertThat(b.getShape()).as(role).isEqualTo(a.getShape());
                    assertThat(bits(b)).as("%s %s bit for bit", shape, role).containsExactly(bits(a));
                    // Same layout and allocator as the live run's arrays, so the next step runs the same kernels on them.
                    assertThat(TensorStorage.isContiguous(a)).as("%s live %s row-major", shape, role).isTrue();
                    assertThat(TensorStorage.isContiguous(b)).as("%s restored %s row-major", shape, role).isTrue();
                    assertThat(TensorStorage.offsetFrom64ByteBoundary(b)).as("%s restored %s in libtorch storage", shape, role)
                            .isZero();
                }
            }
        }
    }

    private static int[] bits(NDArray a) {
        float[] f = a.toFloatArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    @Test
    void restoredStateContinuesLikeAnUninterruptedRunWithinFloatRounding() {
        Shape shape = new Shape(20, 12);
        GaloreSettings settings = new GaloreSettings(3, 2, 0.5f);
        try (NDManager scratch = manager.newSubManager();
             GaloreAdamW straight = new GaloreAdamW(manager, shape, settings, AdamWSettings.defaults(), linalg, 7);
             GaloreAdamW resumed = new GaloreAdamW(manager, shape, settings, AdamWSettings.defaults(), linalg, 7)) {
            NDArray w1 = scratch.randomNormal(shape);
            NDArray w2 = w1.duplicate();
            NDArray[] grads = new NDArray[4];
            for (int i = 0; i < grads.length; i++) {
                grads[i] = scratch.randomNormal(shape);
            }
            for (int i = 0; i < 3; i++) {
                straight.step(w1, grads[i], 1e-2f);
            }
            var saved = straight.stateArrays();
            resumed.restore(saved.get("exp_avg").toFloatArray(), saved.get("exp_avg_sq").toFloatArray(),
                    saved.get("projector").toFloatArray(), straight.steps());
            OwnedArrays.copyInto(w2, w1.toFloatArray());
            straight.step(w1, grads[3], 1e-2f);
            resumed.step(w2, grads[3], 1e-2f);
            // Resume promises the state bit for bit (the test above), the continuation only within float rounding: the two
            // updates run on different arrays, and MKL's kernels may group sums by alignment and CPU. A wrong restore
            // (moments, projector or step count) moves weights by orders of magnitude more than 1e-6.
            assertThat(w2.toFloatArray()).containsExactly(w1.toFloatArray(), org.assertj.core.data.Offset.offset(1e-6f));
        }
    }

    @Test
    void liveArrayCountStaysFlatOverManySteps() {
        try (NDManager scratch = manager.newSubManager();
             GaloreAdamW opt = new GaloreAdamW(manager, new Shape(40, 24), new GaloreSettings(4, 3, 1f),
                     AdamWSettings.defaults(), linalg, 1)) {
            NDArray weight = scratch.randomNormal(new Shape(40, 24));
            NDArray grad = scratch.randomNormal(new Shape(40, 24));
            opt.step(weight, grad, 1e-3f);
            int before = manager.getManagedArrays().size();
            for (int i = 0; i < 30; i++) {
                opt.step(weight, grad, 1e-3f);
            }
            assertThat(manager.getManagedArrays().size()).isEqualTo(before);
        }
    }
}
