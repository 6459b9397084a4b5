package io.finetune.trainer.method.galore;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.linalg.LinearAlgebra;
import io.finetune.trainer.linalg.Matrices;
import io.finetune.trainer.linalg.SvdMethod;
import io.finetune.trainer.spec.GaloreSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The projector keeps the top-r singular subspace of the smaller side of a gradient with a known spectrum. */
class GaloreProjectorTest {
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

    private static final double[] SPECTRUM = {9, 6, 4, 2, 0.5, 0.3, 0.2, 0.1};

    /** G = A diag(SPECTRUM) B^T with A (m, 8), B (n, 8) orthonormal columns. Returns {G, A, B}. */
    private static double[][][] gradient(int m, int n, long seed) {
        double[][] a = Matrices.orthonormalColumns(m, SPECTRUM.length, seed);
        double[][] b = Matrices.orthonormalColumns(n, SPECTRUM.length, seed + 100);
        return new double[][][] {Matrices.compose(a, SPECTRUM, b), a, b};
    }

    private static double angleToTruth(int m, int n, int rank, SvdMethod method) {
        double[][][] g = gradient(m, n, 3);
        try (NDManager scratch = manager.newSubManager();
             GaloreProjector projector = new GaloreProjector(m, n, new GaloreSettings(rank, 10, 1f), method, linalg, 5)) {
            NDArray grad = scratch.create(Matrices.flat(g[0]), new Shape(m, n));
            projector.refresh(grad, 0, scratch);
            NDArray basis = projector.basis();
            if (m >= n) {
                assertThat(projector.side()).isEqualTo(GaloreProjector.Side.RIGHT);
                assertThat(basis.getShape()).isEqualTo(new Shape(rank, n));
                double[][] q = Matrices.transpose(Matrices.unflat(basis.toFloatArray(), rank, n)); // (n, r)
                return Matrices.subspaceDistance(q, Matrices.leftColumns(g[2], rank));
            }
            assertThat(projector.side()).isEqualTo(GaloreProjector.Side.LEFT);
            assertThat(basis.getShape()).isEqualTo(new Shape(m, rank));
            double[][] p = Matrices.unflat(basis.toFloatArray(), m, rank);
            return Matrices.subspaceDistance(p, Matrices.leftColumns(g[1], rank));
        }
    }

    @Test
    void tallGradientKeepsTopRightSingularVectorsExact() {
        assertThat(angleToTruth(48, 20, 3, SvdMethod.EXACT)).isLessThan(1e-4);
    }

    @Test
    void wideGradientKeepsTopLeftSingularVectorsExact() {
        assertThat(angleToTruth(20, 48, 3, SvdMethod.EXACT)).isLessThan(1e-4);
    }

    @Test
    void randomizedSvdFindsTheSameSubspace() {
        assertThat(angleToTruth(120, 80, 4, SvdMethod.RANDOMIZED)).isLessThan(1e-3);
        assertThat(angleToTruth(80, 120, 4, SvdMethod.RANDOMIZED)).isLessThan(1e-3);
    }

    @Test
    void projectBackOfProjectIsTheRankRApproximationTimesScale() {
        int m = 30;
        int n = 16;
        int r = 2;
        double[][][] g = gradient(m, n, 9);
        try (NDManager scratch = manager.newSubManager();
             GaloreProjector projector = new GaloreProjector(m, n, new GaloreSettings(r, 10, 0.25f), SvdMethod.EXACT, linalg, 1)) {
            NDArray grad = scratch.create(Matrices.flat(g[0]), new Shape(m, n));
            projector.refresh(grad, 0, scratch);
            projector.basis().tempAttach(scratch);
            NDArray low = projector.project(grad);
            assertThat(low.getShape()).isEqualTo(new Shape(m, r));
            double[][] back = Matrices.unflat(projector.projectBack(low).toFloatArray(), m, n);
            // Reference: 0.25 · A_r diag(s_r) B_r^T, the best rank-2 approximation.
            double[][] expected = Matrices.compose(Matrices.leftColumns(g[1], r), new double[] {9 * 0.25, 6 * 0.25},
                    Matrices.leftColumns(g[2], r));
            assertThat(Matrices.maxAbsDiff(back, expected)).isLessThan(1e-5);
        }
    }

    @Test
    void rankIsCappedAtTheSmallerSide() {
        GaloreProjector projector = new GaloreProjector(10, 4, new GaloreSettings(128, 10, 1f), SvdMethod.EXACT, linalg, 1);
        assertThat(projector.rank()).isEqualTo(4);
    }

    /** A basis and its sign-flipped twin (both valid SVD outputs) become the same, largest entry of each vector positive. */
    @Test
    void singularVectorSignsFollowOneRuleWhicheverSignTheSvdReturned() {
        Shape shape = new Shape(3, 2); // LEFT: P (m, r), vectors are the columns
        float[] basis = {0.6f, -0.1f, -0.8f, 0.2f, 0.0f, -0.97f};
        float[] flipped = {-0.6f, -0.1f, 0.8f, 0.2f, -0.0f, -0.97f}; // column 0 negated
        GaloreProjector.canonicalSigns(basis, shape, GaloreProjector.Side.LEFT);
        GaloreProjector.canonicalSigns(flipped, shape, GaloreProjector.Side.LEFT);
        assertThat(flipped).containsExactly(basis);
        assertThat(basis).containsExactly(-0.6f, 0.1f, 0.8f, -0.2f, -0.0f, 0.97f);
        float[] rows = {0.3f, -0.9f, 0.1f, 0.5f}; // RIGHT: Q (r, n), vectors are the rows
        GaloreProjector.canonicalSigns(rows, new Shape(2, 2), GaloreProjector.Side.RIGHT);
        assertThat(rows).containsExactly(-0.3f, 0.9f, 0.1f, 0.5f);
    }
}
