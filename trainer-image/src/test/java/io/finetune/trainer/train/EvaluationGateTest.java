package io.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.EvaluationSpec;
import io.finetune.trainer.Specs;
import org.junit.jupiter.api.Test;

class EvaluationGateTest {
    private static EvaluationSpec spec(Double maxEvalLoss, Double minImprovement) {
        EvaluationSpec s = new EvaluationSpec();
        s.maxEvalLoss = maxEvalLoss;
        s.minRelativeImprovement = minImprovement;
        return s;
    }

    @Test
    void noThresholdMeansNoGate() {
        assertThat(EvaluationGate.check(Specs.evaluation(null), 4, 3)).isNull();
        assertThat(EvaluationGate.check(Specs.evaluation(spec(null, null)), 4, 3)).isNull();
    }

    @Test
    void relativeImprovementIsMeasuredFromTheLossBeforeTraining() {
        assertThat(EvaluationGate.check(Specs.evaluation(spec(null, 0.05)), 4.0, 3.8).passed()).as("exactly 5% lower").isTrue();
        EvaluationGate.Verdict v = EvaluationGate.check(Specs.evaluation(spec(null, 0.05)), 4.0, 3.9);
        assertThat(v.passed()).isFalse();
        assertThat(v.message()).contains("4.0000 before training, 3.9000 after (2.5% lower)")
                .contains("minRelativeImprovement=0.05 (5.0%)");
    }

    @Test
    void maxEvalLossAndBothMissedAreNamed() {
        assertThat(EvaluationGate.check(Specs.evaluation(spec(2.0, null)), 4.0, 2.0).passed()).isTrue();
        EvaluationGate.Verdict v = EvaluationGate.check(Specs.evaluation(spec(2.0, 0.5)), 4.0, 3.0);
        assertThat(v.passed()).isFalse();
        assertThat(v.message()).contains("above spec.evaluation.maxEvalLoss=2.0").contains("minRelativeImprovement=0.5");
    }

    @Test
    void aNanLossNeverPasses() {
        EvaluationGate.Verdict v = EvaluationGate.check(Specs.evaluation(spec(100.0, null)), Double.NaN, Double.NaN);
        assertThat(v.passed()).isFalse();
        assertThat(v.message()).contains("held-out split");
    }
}
