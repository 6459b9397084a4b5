package io.finetune.trainer.optim;

import io.finetune.api.v1alpha1.SchedulerType;

/**
 * Learning rate at optimizer step index s (0-based), as transformers' get_{cosine,linear,constant}_schedule_with_warmup:
 * s/warmup during warmup, then cosine 0.5(1+cos(pi p)), linear (1-p) or constant, with p the progress after warmup.
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, SchedulerType type) {
    public double at(int s) {
        if (s < warmupSteps) {
            return peak * s / Math.max(1, warmupSteps);
        }
        double progress = (double) (s - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return switch (type) {
            case CONSTANT -> peak;
            case LINEAR -> peak * Math.max(0.0, 1.0 - progress);
            case COSINE -> peak * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
        };
    }
}
