package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Merges conditions the Kubernetes way: a condition whose status did not change keeps its lastTransitionTime (so an
 * unchanged status stays byte-identical and is not patched again); types not mentioned stay as they were.
 */
public final class Conditions {
    private Conditions() {
    }

    public static Condition of(ConditionType type, boolean status, StatusReason reason, String message) {
        return new ConditionBuilder().withType(type.name()).withStatus(status ? "True" : "False")
                .withReason(reason.name()).withMessage(message).build();
    }

    /** previous with each desired condition applied; lastTransitionTime = now only where the status flipped or is new. */
    public static List<Condition> merge(List<Condition> previous, List<Condition> desired, String now, Long generation) {
        List<Condition> out = new ArrayList<>();
        if (previous != null) {
            previous.forEach(c -> out.add(new ConditionBuilder(c).build()));
        }
        for (Condition want : desired) {
            Optional<Condition> had = find(out, want.getType());
            String transition = had.filter(h -> h.getStatus().equals(want.getStatus()))
                    .map(Condition::getLastTransitionTime).orElse(now);
            Condition merged = new ConditionBuilder(want).withLastTransitionTime(transition).withObservedGeneration(generation).build();
            if (had.isPresent()) {
                out.set(out.indexOf(had.get()), merged);
            } else {
                out.add(merged);
            }
        }
        return out;
    }

    public static Optional<Condition> find(List<Condition> conditions, String type) {
        return conditions == null ? Optional.empty() : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    public static Optional<Condition> find(List<Condition> conditions, ConditionType type) {
        return find(conditions, type.name());
    }

    public static boolean isTrue(List<Condition> conditions, ConditionType type) {
        return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
    }
}
