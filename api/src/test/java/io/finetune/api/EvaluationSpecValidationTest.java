package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.DatasetSpec;
import io.finetune.api.v1alpha1.EvaluationSpec;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluationSpecValidationTest {
    private static List<String> violations(EvaluationSpec e, Double evalFraction) {
        FineTuneJobSpec spec = new FineTuneJobSpec();
        spec.dataset = new DatasetSpec();
        spec.dataset.source = "pvc://data/train.jsonl";
        spec.dataset.evalFraction = evalFraction;
        spec.evaluation = e;
        return FineTuneJobValidator.validate(spec).stream().map(Violation::toString)
                .filter(v -> v.startsWith("spec.evaluation")).toList();
    }

    @Test
    void thresholdsOutOfRangeNameTheField() {
        EvaluationSpec e = new EvaluationSpec();
        e.maxEvalLoss = 0.0;
        e.minRelativeImprovement = 1.5;
        e.evalEverySteps = 0;
        assertThat(violations(e, null)).anyMatch(v -> v.startsWith("spec.evaluation.maxEvalLoss"))
                .anyMatch(v -> v.startsWith("spec.evaluation.minRelativeImprovement") && v.contains("1.5"))
                .anyMatch(v -> v.startsWith("spec.evaluation.evalEverySteps"));
    }

    @Test
    void aGateWithoutHeldOutDataIsRefused() {
        EvaluationSpec e = new EvaluationSpec();
        e.minRelativeImprovement = 0.05;
        assertThat(violations(e, 0.0)).singleElement().asString().contains("evalFraction is 0");
        assertThat(violations(e, 0.1)).isEmpty();
    }
}
