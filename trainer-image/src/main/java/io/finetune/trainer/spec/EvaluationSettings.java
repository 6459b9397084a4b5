package io.finetune.trainer.spec;

/**
 * Periodic evaluation and the evaluation gate ({@code spec.evaluation}).
 *
 * @param maxEvalLoss            the gate fails when the final eval loss is above it; null: no such threshold
 * @param minRelativeImprovement the gate fails when (before - after) / before is below it; null: no such threshold
 * @param evalEverySteps         evaluate every N optimizer steps and keep the best weights; 0: only after the last step
 */
public record EvaluationSettings(Double maxEvalLoss, Double minRelativeImprovement, int evalEverySteps) {
    /** No spec.evaluation: evaluate once after the last step, no gate. */
    public static final EvaluationSettings NONE = new EvaluationSettings(null, null, 0);

    public EvaluationSettings {
        if (evalEverySteps < 0) {
            throw new IllegalArgumentException("spec.evaluation.evalEverySteps must be >= 0, got " + evalEverySteps);
        }
    }

    /** Whether any threshold is set (the gate gives a verdict only then). */
    public boolean hasGate() {
        return maxEvalLoss != null || minRelativeImprovement != null;
    }
}
