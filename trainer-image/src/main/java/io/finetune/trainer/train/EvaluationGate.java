package io.finetune.trainer.train;

import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.spec.EvaluationSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * spec.evaluation's thresholds applied to the eval loss before training and of the weights about to be published. A run
 * that misses one writes its output under {@code rejected/} ({@link RunLayout#REJECTED}: kept for inspection, never at the
 * destination's top level where a server would load it) and ends EvaluationGateFailed.
 */
public final class EvaluationGate {
    /** passed, and one line with both losses and the thresholds (the failure message when not passed). */
    public record Verdict(boolean passed, String message) {
    }

    private EvaluationGate() {
    }

    /** Null when the spec sets no threshold (nothing to gate). */
    public static Verdict check(EvaluationSettings spec, double before, double after) {
        if (!spec.hasGate()) {
            return null;
        }
        double improvement = (before - after) / before;
        String losses = String.format(Locale.ROOT, "eval loss %.4f before training, %.4f after (%.1f%% lower)", before, after,
                100 * improvement);
        if (!Double.isFinite(before) || !Double.isFinite(after)) {
            return new Verdict(false, losses + ": no finite eval loss to judge (is the held-out split empty?)");
        }
        List<String> missed = new ArrayList<>();
        if (spec.maxEvalLoss() != null && !(after <= spec.maxEvalLoss())) {
            missed.add(String.format(Locale.ROOT, "above spec.evaluation.maxEvalLoss=%s", spec.maxEvalLoss()));
        }
        if (spec.minRelativeImprovement() != null && !(improvement >= spec.minRelativeImprovement())) {
            missed.add(String.format(Locale.ROOT, "less than spec.evaluation.minRelativeImprovement=%s (%.1f%%)",
                    spec.minRelativeImprovement(), 100 * spec.minRelativeImprovement()));
        }
        return missed.isEmpty() ? new Verdict(true, losses + ": evaluation gate passed")
                : new Verdict(false, losses + ": " + String.join(" and ", missed));
    }
}
