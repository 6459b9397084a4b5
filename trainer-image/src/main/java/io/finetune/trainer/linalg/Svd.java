package io.finetune.trainer.linalg;

import ai.djl.ndarray.NDArray;

/**
 * A (truncated) singular value decomposition A ≈ U diag(S) Vh, singular values descending.
 *
 * @param u  (m, k) left singular vectors as columns
 * @param s  (k) singular values
 * @param vh (k, n) right singular vectors as rows
 */
public record Svd(NDArray u, NDArray s, NDArray vh) implements AutoCloseable {
    public int k() {
        return (int) s.getShape().get(0);
    }

    @Override
    public void close() {
        u.close();
        s.close();
        vh.close();
    }
}
