package io.finetune.trainer.data;

/**
 * One tokenized training record. HF convention: labels are aligned with inputIds (the model shifts them internally);
 * {@link #IGNORE} means "no loss at this position".
 */
public record Example(int[] inputIds, int[] labels) {
    /** Label value that excludes a position from the loss (PyTorch's cross-entropy ignore_index). */
    public static final int IGNORE = -100;

    public Example {
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("inputIds and labels differ in length: " + inputIds.length + " vs " + labels.length);
        }
        if (inputIds.length == 0) {
            throw new IllegalArgumentException("an example needs at least one token");
        }
    }

    public int length() {
        return inputIds.length;
    }

    /** Positions 1..T-1 whose label is not IGNORE: the tokens that contribute to the loss after the causal shift. */
    public int lossTokens() {
        int n = 0;
        for (int t = 1; t < labels.length; t++) {
            if (labels[t] != IGNORE) {
                n++;
            }
        }
        return n;
    }
}
