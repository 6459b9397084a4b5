package io.finetune.trainer.spec;

import io.finetune.api.v1alpha1.Precision;
import io.finetune.api.v1alpha1.SchedulerType;
import java.util.Objects;

/**
 * Optimisation settings ({@code spec.training}, defaults applied): AdamW with decoupled weight decay, warmup then the
 * schedule, gradient accumulation, global-norm clipping.
 *
 * @param maxSteps             optimizer steps, or null: {@code epochs} over the data
 * @param checkpointEverySteps 0 = only on a stop request
 * @param keepCheckpoints      how many of the newest complete checkpoints are kept (older ones are pruned)
 * @param maxGradNorm          0 = no clipping
 */
public record TrainingSettings(int epochs, Integer maxSteps, double learningRate, int batchSize,
                               int gradientAccumulationSteps, int warmupSteps, SchedulerType scheduler, double weightDecay,
                               double maxGradNorm, long seed, int checkpointEverySteps, int keepCheckpoints,
                               int logEverySteps, Precision precision) {
    public TrainingSettings {
        if (epochs < 1 || batchSize < 1 || gradientAccumulationSteps < 1 || warmupSteps < 0 || logEverySteps < 1
                || checkpointEverySteps < 0 || keepCheckpoints < 1 || (maxSteps != null && maxSteps < 1)) {
            throw new IllegalArgumentException("spec.training: epochs, batchSize, gradientAccumulationSteps, logEverySteps,"
                    + " keepCheckpoints and maxSteps must be >= 1, warmupSteps and checkpointEverySteps >= 0");
        }
        if (!(learningRate > 0) || !(weightDecay >= 0) || !(maxGradNorm >= 0)) {
            throw new IllegalArgumentException("spec.training: learningRate must be > 0, weightDecay and maxGradNorm >= 0");
        }
        Objects.requireNonNull(scheduler, "spec.training.scheduler");
        Objects.requireNonNull(precision, "spec.training.precision");
    }

    /** Optimizer steps of the run: maxSteps, or epochs over {@code batchesPerEpoch} micro-batches (at least one). */
    public int totalSteps(int batchesPerEpoch) {
        if (maxSteps != null) {
            return maxSteps;
        }
        int perEpoch = (batchesPerEpoch + gradientAccumulationSteps - 1) / gradientAccumulationSteps;
        return Math.max(1, perEpoch * epochs);
    }
}
