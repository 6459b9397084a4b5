package io.finetune.trainer.method.galore;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.linalg.LinearAlgebra;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.linalg.Svd;
import io.finetune.trainer.linalg.SvdMethod;
import io.finetune.trainer.spec.GaloreSettings;

/**
 * GaLore gradient projector, proj_type "std" (galore_torch/galore_projector.py; Zhao et al. 2024, arXiv 2403.03507, Alg. 2).
 * For a gradient G (m, n) it keeps the rank-r singular basis of the SMALLER side, so the compact gradient has shape
 * (r, max(m, n)) and the stored basis min(m, n)·r values:
 * <ul>
 *   <li>m >= n: Q = Vh[:r] (r, n); project R = G Q^T (m, r); back: scale · R Q (m, n)</li>
 *   <li>m < n: P = U[:, :r] (m, r); project R = P^T G (r, n); back: scale · P R (m, n)</li>
 * </ul>
 * The SVD runs in fp32 on the current gradient at steps 0, T, 2T, ...; each kept vector's sign follows one rule
 * ({@link #canonicalSigns}), whichever sign the SVD returned.
 *
 * <p>DJL puts an op's result in its first operand's manager: {@link #project} and {@link #projectBack} must run while the
 * basis and the operands are attached to a per-step scratch manager (as {@link GaloreAdamW#step} does), or results leak into
 * the state manager.
 */
public final class GaloreProjector implements AutoCloseable {
    /** Which singular basis is kept. */
    public enum Side {
        /** P = U[:, :r], used when m < n. */
        LEFT,
        /** Q = Vh[:r], used when m >= n. */
        RIGHT
    }

    private final GaloreSettings settings;
    private final LinearAlgebra linalg;
    private final long rows;
    private final long cols;
    private final int rank;
    private final Side side;
    private final SvdMethod svdMethod;
    private final long seed;
    private NDArray basis; // LEFT: (m, r); RIGHT: (r, n)

    public GaloreProjector(long rows, long cols, GaloreSettings settings, SvdMethod svdMethod, LinearAlgebra linalg, long seed) {
        this.rows = rows;
        this.cols = cols;
        this.settings = settings;
        this.linalg = linalg;
        this.svdMethod = svdMethod;
        this.seed = seed;
        this.rank = settings.rankFor(rows, cols);
        this.side = rows >= cols ? Side.RIGHT : Side.LEFT;
    }

    public Side side() {
        return side;
    }

    public int rank() {
        return rank;
    }

    /** The current basis (LEFT: P (m, r); RIGHT: Q (r, n)), or null before the first refresh. */
    public NDArray basis() {
        return basis;
    }

    /** Whether step t (0-based, counted before the optimizer increments it) recomputes the basis. */
    public boolean refreshDue(long step) {
        return basis == null || step % settings.updateProjectionGap() == 0;
    }

    /**
     * Recomputes the basis from {@code grad} (m, n) fp32. Intermediates live in a sub-manager of {@code owner}; the new basis is
     * attached to {@code owner} and the previous one is closed. Must not be called while the basis is temp-attached elsewhere.
     */
    public void refresh(NDArray grad, long step, NDManager owner) {
        if (grad.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("GaLore SVD runs in fp32; gradient is " + grad.getDataType());
        }
        NDArray fresh;
        try (NDManager scratch = owner.newSubManager()) {
            Svd svd = svdMethod == SvdMethod.EXACT
                    ? linalg.svd(grad, scratch)
                    : linalg.randomizedSvd(grad, rank, LinearAlgebra.DEFAULT_OVERSAMPLING,
                            LinearAlgebra.DEFAULT_POWER_ITERATIONS, seed + step, scratch);
            NDArray slice = side == Side.RIGHT
                    ? svd.vh().get(new NDIndex("0:{}", rank))
                    : svd.u().get(new NDIndex(":, 0:{}", rank));
            // Built exactly as restore() builds a saved basis: a row-major libtorch-owned copy of its values. LAPACK
            // returns U and Vh column-major and clone() keeps that stride order, so a duplicate() of the slice would
            // be multiplied with other BLAS transpose flags (another float order) than the basis a resumed run restores.
            // The copy also keeps the basis from pinning the whole U / Vh storage.
            float[] values = slice.toFloatArray();
            canonicalSigns(values, slice.getShape(), side);
            fresh = OwnedArrays.create(owner, values, slice.getShape());
        }
        if (basis != null) {
            basis.close();
        }
        basis = fresh;
    }

    /**
     * Flips each kept singular vector (RIGHT: a row of Q (r, n); LEFT: a column of P (m, r)) so that its entry of largest
     * magnitude is positive (the rule of scikit-learn's svd_flip), in place. An SVD fixes its vectors only up to sign, and
     * which sign LAPACK returns depends on the library and the CPU; the first update after a basis is taken does not
     * depend on it (Adam's M / (sqrt(V) + eps) is odd in the compact gradient), but the moments outlive a refresh, so every
     * later one would. With one rule, a run after a refresh is the same whichever LAPACK computed the SVD
     * (tools/reference/methods.py applies the same rule; MethodGoldenTest compares).
     */
    static void canonicalSigns(float[] values, Shape shape, Side side) {
        int rows = (int) shape.get(0);
        int cols = (int) shape.get(1);
        int vectors = side == Side.RIGHT ? rows : cols;
        int length = side == Side.RIGHT ? cols : rows;
        for (int v = 0; v < vectors; v++) {
            float top = 0;
            for (int i = 0; i < length; i++) {
                float x = values[side == Side.RIGHT ? v * cols + i : i * cols + v];
                if (Math.abs(x) > Math.abs(top)) {
                    top = x;
                }
            }
            if (top < 0) {
                for (int i = 0; i < length; i++) {
                    int at = side == Side.RIGHT ? v * cols + i : i * cols + v;
                    values[at] = -values[at];
                }
            }
        }
    }

    /** Replaces the basis with saved values (checkpoint resume); null clears it so the next step refreshes. */
    public void restore(float[] values, NDManager owner) {
        close();
        if (values != null) {
            Shape shape = side == Side.RIGHT ? new Shape(rank, cols) : new Shape(rows, rank);
            if (values.length != shape.size()) {
                throw new IllegalArgumentException("saved GaLore basis has " + values.length + " values, expected " + shape);
            }
            basis = OwnedArrays.create(owner, values, shape);
        }
    }

    /** Compact gradient: RIGHT: G Q^T (m, r); LEFT: P^T G (r, n). */
    public NDArray project(NDArray grad) {
        return side == Side.RIGHT ? grad.matMul(basis.transpose()) : basis.transpose().matMul(grad);
    }

    /** Full-size update: RIGHT: scale · R Q (m, n); LEFT: scale · P R (m, n). */
    public NDArray projectBack(NDArray low) {
        NDArray full = side == Side.RIGHT ? low.matMul(basis) : basis.matMul(low);
        return full.muli(OwnedArrays.scalar(full.getManager(), settings.scale()));
    }

    /** Bytes of the held basis: min(m, n)·r fp32 values once it exists. */
    public long stateBytes() {
        return basis == null ? 0 : basis.size() * basis.getDataType().getNumOfBytes();
    }

    public long rows() {
        return rows;
    }

    public long cols() {
        return cols;
    }

    @Override
    public void close() {
        if (basis != null) {
            basis.close();
            basis = null;
        }
    }
}
