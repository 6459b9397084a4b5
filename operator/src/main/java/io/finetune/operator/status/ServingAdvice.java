package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.finetune.api.Serving;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.util.Optional;

/**
 * Admission-time serving check: when the spec asks for an adapter vLLM will not load (DoRA, rank above 512), the
 * ServingCompatible condition is False from the first pass on, naming the setting and the fix, so the user learns it
 * before training, not from status.artifact.servableBy hours later.
 */
public final class ServingAdvice {
    private ServingAdvice() {
    }

    /** The ServingCompatible condition for this spec; empty when there is no spec to judge. */
    public static Optional<Condition> condition(FineTuneJob job) {
        if (job.getSpec() == null || job.getSpec().method == null || job.getSpec().method.type == null) {
            return Optional.empty();
        }
        Serving.Verdict v = Serving.forSpec(job.getSpec());
        if (v.vllmProblem() != null) {
            return Optional.of(Conditions.of(ConditionType.ServingCompatible, false, StatusReason.NotServableByVllm,
                    v.vllmProblem() + ". Servable by: " + String.join(", ", v.servableBy())));
        }
        String servers = String.join(", ", v.servableBy());
        return Optional.of(Conditions.of(ConditionType.ServingCompatible, true, StatusReason.Servable,
                "the output will load in " + servers + (v.note() == null ? "" : " (" + v.note() + ")")));
    }
}
