package io.finetune.trainer.model;

import java.util.SplittableRandom;

/**
 * Per-forward settings: whether dropout is active, and the seed its masks derive from. Masks are drawn in Java from
 * (seed, call index), so a resumed run that replays the same step seeds gets the same masks, bit for bit.
 */
public final class ForwardContext {
    public static final ForwardContext EVAL = new ForwardContext(false, 0);

    private final boolean training;
    private final long seed;
    private int calls;

    public ForwardContext(boolean training, long seed) {
        this.training = training;
        this.seed = seed;
    }

    public boolean training() {
        return training;
    }

    /**
     * A context that continues from this one's current call index: a recomputed forward (LayerwiseRecompute) started from
     * it draws the same dropout masks as the original forward did from here.
     */
    public ForwardContext replay() {
        ForwardContext copy = new ForwardContext(training, seed);
        copy.calls = calls;
        return copy;
    }

    /** A fresh generator for the next dropout site in this forward pass. */
    public SplittableRandom nextRandom() {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + (++calls));
    }
}
