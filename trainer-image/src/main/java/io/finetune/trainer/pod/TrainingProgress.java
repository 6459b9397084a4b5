package io.finetune.trainer.pod;

import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Progress;
import java.time.Duration;

/**
 * One progress sample from the training loop, converted to the {@code status.progress} shape users see in
 * {@code kubectl get ftj} (summary "step/totalSteps", eta like "4m10s").
 *
 * @param step            optimizer steps done (after a resume: counted from the start of the run, not of this pod)
 * @param totalSteps      optimizer steps planned
 * @param epoch           fractional epoch reached
 * @param loss            training loss over the last logging window; non-finite values are left out of the patch
 * @param learningRate    current learning rate
 * @param tokensPerSecond training throughput
 * @param eta             estimated time left; null when unknown
 */
public record TrainingProgress(long step, long totalSteps, double epoch, double loss, double learningRate,
                               double tokensPerSecond, Duration eta) {

    /** The status.progress object. NaN/Infinity would be rejected by the API server (JSON has no such numbers). */
    public Progress toProgress() {
        Progress p = new Progress();
        p.step = step;
        p.totalSteps = totalSteps;
        p.epoch = TrainerResult.finite(epoch);
        p.loss = TrainerResult.finite(loss);
        p.learningRate = TrainerResult.finite(learningRate);
        p.tokensPerSecond = TrainerResult.finite(tokensPerSecond);
        p.eta = eta == null ? null : formatDuration(eta);
        p.summary = step + "/" + totalSteps;
        p.percentage = percentage(step, totalSteps);
        p.estimatedRemainingSeconds = eta == null ? null : Math.max(0, Math.round(eta.toMillis() / 1000.0));
        return p;
    }

    /** Whole percent of the planned steps done, rounded down (100 only when every step is done); null without a plan. */
    static Integer percentage(long step, long totalSteps) {
        if (totalSteps <= 0) {
            return null;
        }
        return (int) Math.max(0, Math.min(100, step * 100 / totalSteps));
    }

    /**
     * Time left if the remaining steps run as fast as the ones this process did: {@code elapsed / stepsDone *
     * stepsLeft}. {@code stepsDoneHere} counts only this process's steps, so a resumed pod does not look faster than it is.
     */
    public static Duration estimateEta(Duration elapsed, long stepsDoneHere, long stepsLeft) {
        if (stepsDoneHere <= 0 || stepsLeft < 0) {
            return null;
        }
        return Duration.ofMillis(Math.round((double) elapsed.toMillis() / stepsDoneHere * stepsLeft));
    }

    /** Compact Go-style duration, rounded to seconds: 0s, 45s, 4m10s, 2h3m0s. */
    public static String formatDuration(Duration d) {
        long total = Math.max(0, Math.round(d.toMillis() / 1000.0));
        long h = total / 3600;
        long m = (total % 3600) / 60;
        long s = total % 60;
        if (h > 0) {
            return h + "h" + m + "m" + s + "s";
        }
        return m > 0 ? m + "m" + s + "s" : s + "s";
    }
}
