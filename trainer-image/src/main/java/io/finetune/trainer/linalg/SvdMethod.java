package io.finetune.trainer.linalg;

/** How a truncated SVD is computed. */
public enum SvdMethod {
    /** {@code torch.linalg.svd(full_matrices=False)}, then truncated: exact, O(m·n·min(m,n)). */
    EXACT,
    /** Randomized range finder with QR power iterations (Halko, Martinsson, Tropp 2011, Alg. 4.4), then an exact SVD of the
     *  small projected matrix: O(m·n·k) for k = rank + oversampling. */
    RANDOMIZED
}
