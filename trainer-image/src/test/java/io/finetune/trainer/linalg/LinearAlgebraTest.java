package io.finetune.trainer.linalg;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LinearAlgebraTest {
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

    /** A (m, n) with singular values 10, 7, 5, 3, 1, 0.1, ... and known singular vectors. */
    private static double[][][] known(int m, int n, int k, long seed) {
        double[][] u = Matrices.orthonormalColumns(m, k, seed);
        double[][] v = Matrices.orthonormalColumns(n, k, seed + 1);
        double[] s = new double[k];
        for (int i = 0; i < k; i++) {
            s[i] = i < 5 ? new double[] {10, 7, 5, 3, 1}[i] : 0.1 / i;
        }
        return new double[][][] {Matrices.compose(u, s, v), u, v, {s}};
    }

    @Test
    void exactSvdRecoversKnownSpectrumAndVectors() {
        double[][][] g = known(40, 24, 24, 7);
        try (NDManager scratch = manager.newSubManager()) {
            NDArray a = scratch.create(Matrices.flat(g[0]), new Shape(40, 24));
            try (Svd svd = linalg.svd(a, scratch)) {
                assertThat(svd.u().getShape()).isEqualTo(new Shape(40, 24));
                assertThat(svd.vh().getShape()).isEqualTo(new Shape(24, 24));
                float[] s = svd.s().toFloatArray();
                for (int i = 0; i < 5; i++) {
                    assertThat((double) s[i]).isCloseTo(g[3][0][i], org.assertj.core.data.Offset.offset(1e-4));
                }
                double[][] u3 = Matrices.leftColumns(Matrices.unflat(svd.u().toFloatArray(), 40, 24), 3);
                assertThat(Matrices.subspaceDistance(u3, Matrices.leftColumns(g[1], 3))).isLessThan(1e-4);
                double[][] v3 = Matrices.leftColumns(Matrices.transpose(Matrices.unflat(svd.vh().toFloatArray(), 24, 24)), 3);
                assertThat(Matrices.subspaceDistance(v3, Matrices.leftColumns(g[2], 3))).isLessThan(1e-4);
            }
        }
    }

    @Test
    void randomizedSvdMatchesExactTopSubspace() {
        double[][][] g = known(96, 64, 64, 11);
        try (NDManager scratch = manager.newSubManager()) {
            NDArray a = scratch.create(Matrices.flat(g[0]), new Shape(96, 64));
            Svd svd = linalg.randomizedSvd(a, 4, LinearAlgebra.DEFAULT_OVERSAMPLING, LinearAlgebra.DEFAULT_POWER_ITERATIONS,
                    42L, scratch);
            assertThat(svd.k()).isEqualTo(12);
            double[][] v4 = Matrices.leftColumns(Matrices.transpose(Matrices.unflat(svd.vh().toFloatArray(), 12, 64)), 4);
            assertThat(Matrices.subspaceDistance(v4, Matrices.leftColumns(g[2], 4))).isLessThan(1e-3);
            double[][] u4 = Matrices.leftColumns(Matrices.unflat(svd.u().toFloatArray(), 96, 12), 4);
            assertThat(Matrices.subspaceDistance(u4, Matrices.leftColumns(g[1], 4))).isLessThan(1e-3);
            // Same seed, same result: training with GaLore stays repeatable.
            Svd again = linalg.randomizedSvd(a, 4, LinearAlgebra.DEFAULT_OVERSAMPLING,
                    LinearAlgebra.DEFAULT_POWER_ITERATIONS, 42L, scratch);
            assertThat(again.vh().toFloatArray()).containsExactly(svd.vh().toFloatArray(), org.assertj.core.data.Offset.offset(1e-5f)); // last-bit kernel noise only
        }
    }

    @Test
    void qrGivesOrthonormalFactorThatReconstructs() {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray a = scratch.randomNormal(new Shape(30, 8));
            NDArray[] qr = linalg.qr(a, scratch);
            NDArray qtq = qr[0].transpose().matMul(qr[0]);
            assertThat(qtq.sub(scratch.eye(8)).abs().max().getFloat()).isLessThan(1e-5f);
            assertThat(qr[0].matMul(qr[1]).sub(a).abs().max().getFloat()).isLessThan(1e-4f);
        }
    }
}
