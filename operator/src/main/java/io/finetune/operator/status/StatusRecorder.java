package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.status.EventRecorder.Type;
import io.finetune.operator.status.StatusDeriver.Derived;
import java.util.Optional;

/**
 * The status step: writes the derived status only when an operator-owned field changed, and then records one event per
 * transition (a new phase, a new reason within it, a newly failed serving check, a newly ignored spec change).
 */
public class StatusRecorder {
    private final StatusWriter writer;
    private final EventRecorder events;

    public StatusRecorder(StatusWriter writer, EventRecorder events) {
        this.writer = writer;
        this.events = events;
    }

    /** @param resource the FineTuneJob as read: its status is the one recorded so far */
    public void record(FineTuneJob resource, Derived derived) {
        FineTuneJobStatus prev = resource.getStatus();
        if (StatusWriter.differs(prev, derived.status())) {
            writer.write(resource, derived.status());
            announce(resource, prev, derived);
        }
    }

    private void announce(FineTuneJob resource, FineTuneJobStatus prev, Derived now) {
        boolean transition = prev == null || prev.phase == null || prev.phase != now.phase()
                || StatusDeriver.recordedReason(prev) != now.reason();
        if (transition) {
            boolean warning = now.phase() == Phase.Failed || now.reason().warns();
            events.record(resource, warning ? Type.Warning : Type.Normal, now.reason(), now.message());
        }
        var servingNow = Conditions.find(now.status().conditions, ConditionType.ServingCompatible).filter(c -> "False".equals(c.getStatus()));
        if (servingNow.isPresent() && (prev == null || !Conditions.find(prev.conditions, ConditionType.ServingCompatible)
                .map(c -> "False".equals(c.getStatus())).orElse(false))) {
            events.record(resource, Type.Warning, StatusReason.NotServableByVllm, servingNow.get().getMessage());
        }
        // Kueue's decisions (admission, eviction) are events of their own: the phase alone does not say who acted.
        var admitted = Conditions.find(now.status().conditions, ConditionType.Admitted).map(Condition::getReason)
                .flatMap(StatusReason::parse).filter(r -> r != StatusReason.Queued);
        var admittedBefore = prev == null ? Optional.<StatusReason>empty()
                : Conditions.find(prev.conditions, ConditionType.Admitted).map(Condition::getReason).flatMap(StatusReason::parse);
        if (admitted.isPresent() && !admitted.equals(admittedBefore)) {
            events.record(resource, Type.Normal, admitted.get(), Conditions.find(now.status().conditions, ConditionType.Admitted)
                    .get().getMessage());
        }
        boolean ignoredBefore = prev != null && Conditions.isTrue(prev.conditions, ConditionType.SpecChangeIgnored);
        boolean ignoredNow = Conditions.isTrue(now.status().conditions, ConditionType.SpecChangeIgnored);
        if (ignoredNow && !ignoredBefore) {
            events.record(resource, Type.Warning, StatusReason.SpecChangeIgnored, Conditions.find(now.status().conditions,
                    ConditionType.SpecChangeIgnored).get().getMessage());
        }
    }
}
