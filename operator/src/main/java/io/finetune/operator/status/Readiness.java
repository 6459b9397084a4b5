package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.finetune.api.v1alpha1.Phase;
import java.util.List;

/**
 * The conditions generic tools read: {@code Ready} (True only on Succeeded; False with the phase's reason otherwise) and
 * kstatus's abnormal-true pair (sigs.k8s.io/cli-utils pkg/kstatus, used by Flux and kpt): {@code Reconciling} True while
 * the run is in progress (Pending, Queued, Running), {@code Stalled} True once it failed. With observedGeneration on the status and on each
 * condition, kstatus computes InProgress, Current (Succeeded, Suspended) or Failed without knowing this CRD.
 */
final class Readiness {
    private Readiness() {
    }

    static List<Condition> of(Phase phase, StatusReason reason, String message) {
        boolean inProgress = phase == Phase.Pending || phase == Phase.Queued || phase == Phase.Running;
        StatusReason ofPhase = StatusReason.of(phase);
        return List.of(Conditions.of(ConditionType.Ready, phase == Phase.Succeeded, reason, message),
                Conditions.of(ConditionType.Reconciling, inProgress, inProgress ? reason : ofPhase,
                        inProgress ? message : "the run is " + phase.name().toLowerCase(java.util.Locale.ROOT)),
                Conditions.of(ConditionType.Stalled, phase == Phase.Failed, phase == Phase.Failed ? reason : ofPhase,
                        phase == Phase.Failed ? message : "the run has not failed"));
    }
}
