package io.finetune.trainer.linalg;

import java.util.SplittableRandom;

/** Standard normal draws from a seeded {@link SplittableRandom}: LoRA's Gaussian init and the randomized SVD's test matrix. */
public final class Gaussian {
    private Gaussian() {
    }

    /** One N(0, 1) value. Box-Muller: SplittableRandom has no nextGaussian on Java 17. */
    public static double next(SplittableRandom random) {
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
