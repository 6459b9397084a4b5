package io.finetune.trainer.method.galore;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.finetune.trainer.linalg.LinearAlgebra;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.linalg.SvdMethod;
import io.finetune.trainer.optim.AdamWSettings;
import io.finetune.trainer.spec.GaloreSettings;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GaLore-AdamW update for ONE 2-D weight (galore_torch/adamw.py, {@code GaLoreAdamW.step}; arXiv 2403.03507 Alg. 2).
 * With t the step count before it is incremented:
 * <pre>
 *   at t % T == 0: refresh the projector from G
 *   R = project(G)                               compact gradient
 *   M = b1·M + (1-b1)·R;  V = b2·V + (1-b2)·R²     moments in the compact space, NOT reset on a refresh
 *   t += 1
 *   N = M / (sqrt(V) + eps)
 *   W -= lr·sqrt(1-b2^t)/(1-b1^t) · project_back(N)      (project_back includes · scale)
 *   W -= lr·wd·W                                  decoupled weight decay on the full weight
 * </pre>
 * The weight is updated in place; call it outside any GradientCollector. Intermediates live in a per-step sub-manager of the
 * state manager, so the live NDArray count stays flat.
 */
public final class GaloreAdamW implements AutoCloseable {
    private final NDManager state;
    private final GaloreProjector projector;
    private final AdamWSettings adam;
    private final NDArray m; // RIGHT: (rows, r); LEFT: (r, cols)
    private final NDArray v; // same shape as m
    private long step;

    /**
     * @param parent manager under which this matrix's optimizer state is held (a sub-manager is created and owned here)
     * @param shape  (m, n) of the weight
     * @param seed   seeds the randomized SVD; combined with the step so every refresh is repeatable
     */
    public GaloreAdamW(NDManager parent, Shape shape, GaloreSettings galore, AdamWSettings adam, LinearAlgebra linalg, long seed) {
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("GaLore applies to 2-D weights only, got shape " + shape);
        }
        this.state = parent.newSubManager();
        this.adam = adam;
        long rows = shape.get(0);
        long cols = shape.get(1);
        this.projector = new GaloreProjector(rows, cols, galore, svdMethodFor(galore, rows, cols), linalg, seed);
        int r = projector.rank();
        Shape compact = projector.side() == GaloreProjector.Side.RIGHT ? new Shape(rows, r) : new Shape(r, cols);
        this.m = state.zeros(compact);
        this.v = state.zeros(compact);
    }

    /**
     * One update of {@code weight} (m, n) in place from {@code grad} (m, n), fp32.
     *
     * @param lr learning rate for this step (after the schedule)
     */
    public void step(NDArray weight, NDArray grad, float lr) {
        if (!weight.getShape().equals(grad.getShape())) {
            throw new IllegalArgumentException("gradient " + grad.getShape() + " does not match weight " + weight.getShape());
        }
        if (projector.refreshDue(step)) {
            projector.refresh(grad, step, state);
        }
        try (NDManager scratch = state.newSubManager()) {
            // Every op's result goes to its first operand's manager: attach operands here so intermediates die with scratch.
            grad.tempAttach(scratch);
            m.tempAttach(scratch);
            v.tempAttach(scratch);
            projector.basis().tempAttach(scratch);

            // Scalars as libtorch-owned 0-dim arrays: DJL's Number overloads wrap each number in a Java buffer and convert it
            // to a tensor per op, which cost more than the arithmetic on the compact moments.
            NDArray r = projector.project(grad);
            m.muli(OwnedArrays.scalar(scratch, adam.beta1())).addi(r.mul(OwnedArrays.scalar(scratch, 1 - adam.beta1())));
            v.muli(OwnedArrays.scalar(scratch, adam.beta2()))
                    .addi(r.square().muli(OwnedArrays.scalar(scratch, 1 - adam.beta2())));
            step++;
            double stepSize = lr * Math.sqrt(1 - Math.pow(adam.beta2(), step)) / (1 - Math.pow(adam.beta1(), step));
            NDArray normalized = m.div(v.sqrt().addi(OwnedArrays.scalar(scratch, adam.eps())));
            NDArray update = projector.projectBack(normalized).muli(OwnedArrays.scalar(scratch, stepSize));
            weight.subi(update);
            if (adam.weightDecay() > 0) {
                weight.muli(OwnedArrays.scalar(scratch, 1 - lr * adam.weightDecay()));
            }
        }
    }

    /**
     * Restores state saved from {@link #stateArrays()} and {@link #steps()} (checkpoint resume), so the next update is the one
     * an uninterrupted run would make.
     *
     * @param basis the projector basis, or null when no step had been taken
     */
    public void restore(float[] expAvg, float[] expAvgSq, float[] basis, long steps) {
        OwnedArrays.copyInto(m, expAvg);
        OwnedArrays.copyInto(v, expAvgSq);
        projector.restore(basis, state);
        this.step = steps;
    }

    /** Steps taken so far. */
    public long steps() {
        return step;
    }

    public GaloreProjector projector() {
        return projector;
    }

    /** Held state by role (exp_avg, exp_avg_sq, projector basis): for checkpoints and memory accounting. */
    public Map<String, NDArray> stateArrays() {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        arrays.put("exp_avg", m);
        arrays.put("exp_avg_sq", v);
        if (projector.basis() != null) {
            arrays.put("projector", projector.basis());
        }
        return arrays;
    }

    /** Optimizer-state bytes measured from the held arrays: 2·r·max(m,n) + r·min(m,n) fp32 values after the first step. */
    public long stateBytes() {
        long bytes = 0;
        for (NDArray a : stateArrays().values()) {
            bytes += a.size() * a.getDataType().getNumOfBytes();
        }
        return bytes;
    }

    @Override
    public void close() {
        projector.close();
        state.close();
    }

    /**
     * Exact SVD while the matrix is small enough that the randomized range finder would sample most of it anyway;
     * randomized above (platform notes: 2048x5632 in ~94 ms randomized vs 6.5 s exact on this CPU).
     */
    static SvdMethod svdMethodFor(GaloreSettings galore, long m, long n) {
        return Math.min(m, n) <= 2L * (galore.rankFor(m, n) + LinearAlgebra.DEFAULT_OVERSAMPLING) ? SvdMethod.EXACT
                : SvdMethod.RANDOMIZED;
    }
}
