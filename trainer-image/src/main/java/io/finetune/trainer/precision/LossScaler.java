package io.finetune.trainer.precision;

/**
 * Dynamic loss scaling for fp16 (Micikevicius et al. 2018, "Mixed Precision Training", §3.2; torch.amp.GradScaler's
 * defaults): the loss is multiplied by {@link #scale()} before backward so small gradients survive fp16's range, the
 * gradients are divided by it before clipping and the optimizer step, and a step whose gradients hold inf/NaN is skipped and
 * halves the scale; every {@code growthInterval} finite steps in a row double it. The scale is not checkpointed: a resumed
 * fp16 run starts again from {@link #INITIAL_SCALE}.
 */
public final class LossScaler {
    public static final double INITIAL_SCALE = 65536.0;
    public static final int GROWTH_INTERVAL = 2000;

    private final int growthInterval;
    private double scale;
    private int goodSteps;
    private long skippedSteps;

    public LossScaler() {
        this(INITIAL_SCALE, GROWTH_INTERVAL);
    }

    public LossScaler(double initialScale, int growthInterval) {
        this.scale = initialScale;
        this.growthInterval = growthInterval;
    }

    public double scale() {
        return scale;
    }

    public long skippedSteps() {
        return skippedSteps;
    }

    /**
     * Records a step's unscaled gradient norm; returns whether the optimizer may step (false: the gradients overflowed, the
     * step is skipped and the scale halved).
     */
    public boolean update(double gradientNorm) {
        if (!Double.isFinite(gradientNorm)) {
            scale /= 2;
            goodSteps = 0;
            skippedSteps++;
            return false;
        }
        if (++goodSteps >= growthInterval) {
            scale *= 2;
            goodSteps = 0;
        }
        return true;
    }
}
