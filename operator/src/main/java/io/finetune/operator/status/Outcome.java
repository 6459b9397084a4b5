package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.finetune.api.v1alpha1.Phase;
import java.util.ArrayList;
import java.util.List;

/**
 * What one phase rule concluded: the phase, its reason and message, the trainer's report when the run ended with one, and
 * the conditions that say so. Each rule of {@link PhaseRules} returns one; {@link StatusDeriver} turns it into a status.
 *
 * @param success the trainer's report (Succeeded, or EvaluationGateFailed with its metrics), else null
 */
record Outcome(Phase phase, StatusReason reason, String message, TrainerReport.Success success, List<Condition> conditions) {
    Outcome {
        conditions = List.copyOf(conditions);
    }

    static Outcome of(Phase phase, StatusReason reason, String message, Condition... conditions) {
        return new Outcome(phase, reason, message, null, List.of(conditions));
    }

    /** Phase Failed: Running=False (the run ended) and Failed=True with the precise reason. */
    static Outcome failed(StatusReason reason, String message, Condition... more) {
        List<Condition> all = new ArrayList<>(List.of(more));
        all.add(Conditions.of(ConditionType.Running, false, StatusReason.Failed, "the run ended"));
        all.add(Conditions.of(ConditionType.Failed, true, reason, message));
        return new Outcome(Phase.Failed, reason, message, null, all);
    }

    /** Phase Pending: Running=False with the message. */
    static Outcome pending(StatusReason reason, String message, Condition... more) {
        List<Condition> all = new ArrayList<>(List.of(more));
        all.add(Conditions.of(ConditionType.Running, false, StatusReason.Pending, message));
        return new Outcome(Phase.Pending, reason, message, null, all);
    }

    /** Phase Running with Running=True and this reason. */
    static Outcome running(StatusReason reason, String message) {
        return of(Phase.Running, reason, message, Conditions.of(ConditionType.Running, true, reason, message));
    }

    Outcome withSuccess(TrainerReport.Success report) {
        return new Outcome(phase, reason, message, report, conditions);
    }

    /** The same outcome with {@code first} ahead of its conditions (the order they are written in). */
    Outcome after(Condition first) {
        List<Condition> all = new ArrayList<>();
        all.add(first);
        all.addAll(conditions);
        return new Outcome(phase, reason, message, success, all);
    }
}
