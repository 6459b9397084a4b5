package io.finetune.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Kubernetes condition conventions: lastTransitionTime moves only when status flips; other types are kept. */
class ConditionsTest {
    @Test
    void transitionTimeMovesOnlyWhenStatusFlips() {
        List<Condition> t0 = Conditions.merge(null, List.of(Conditions.of(ConditionType.Running, false, StatusReason.Pending, "waiting")),
                "2026-01-01T00:00:00Z", 1L);
        List<Condition> sameStatus = Conditions.merge(t0, List.of(Conditions.of(ConditionType.Running, false, StatusReason.Suspended, "paused")),
                "2026-01-01T00:05:00Z", 2L);
        List<Condition> flipped = Conditions.merge(sameStatus, List.of(Conditions.of(ConditionType.Running, true, StatusReason.Running, "go")),
                "2026-01-01T00:09:00Z", 2L);

        assertThat(sameStatus.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(sameStatus.get(0).getReason()).isEqualTo("Suspended");
        assertThat(sameStatus.get(0).getObservedGeneration()).isEqualTo(2L);
        assertThat(flipped.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T00:09:00Z");
    }

    @Test
    void unmentionedConditionsStay() {
        List<Condition> before = Conditions.merge(null, List.of(Conditions.of(ConditionType.Valid, true, StatusReason.Valid, "ok")),
                "2026-01-01T00:00:00Z", 1L);
        List<Condition> after = Conditions.merge(before, List.of(Conditions.of(ConditionType.Running, true, StatusReason.Running, "go")),
                "2026-01-01T00:01:00Z", 1L);

        assertThat(after).extracting(Condition::getType).containsExactly("Valid", "Running");
    }
}
