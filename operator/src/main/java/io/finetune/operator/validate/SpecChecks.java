package io.finetune.operator.validate;

import io.fabric8.kubernetes.api.model.Quantity;
import io.finetune.api.FineTuneJobValidator;
import io.finetune.api.Violation;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.api.v1alpha1.ResourcesSpec;
import io.finetune.operator.naming.Names;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.operator.desired.CredentialEnv;
import io.finetune.operator.desired.TrainingJob;
import java.util.ArrayList;
import java.util.List;

/**
 * The validate step of the reconcile: the shared spec rules (the server may lack CEL, so they run here too) plus what
 * only the operator knows: name length for derived names, a trainer image, parseable quantities, one credentials
 * Secret per storage family, at most one GPU (the trainer's single device), and no fp16 without a GPU.
 */
public class SpecChecks {
    private final OperatorSettings settings;

    public SpecChecks(OperatorSettings settings) {
        this.settings = settings;
    }

    public List<Violation> check(FineTuneJob job) {
        List<Violation> out = new ArrayList<>();
        String name = job.getMetadata() == null ? null : job.getMetadata().getName();
        if (name != null && name.length() > Names.MAX_JOB_NAME_LENGTH) {
            out.add(new Violation("metadata.name", "must be at most " + Names.MAX_JOB_NAME_LENGTH
                    + " characters (the training Job is named <name>-trainer), got " + name.length()));
        }
        out.addAll(FineTuneJobValidator.validate(job.getSpec()));
        if (job.getSpec() == null) {
            return out;
        }
        if (TrainingJob.image(job, settings) == null) {
            out.add(new Violation("spec.image", "is required: the operator has no default trainer image configured"));
        }
        ResourcesSpec res = job.getSpec().resources;
        if (res != null) {
            quantity(out, "spec.resources.cpu", res.cpu);
            quantity(out, "spec.resources.memory", res.memory);
            quantity(out, "spec.resources.gpuMemory", res.gpuMemory);
            if (res.gpus != null && res.gpus > 0 && (res.gpuResourceName == null || res.gpuResourceName.isBlank())) {
                out.add(new Violation("spec.resources.gpuResourceName", "is required when gpus > 0 (e.g. nvidia.com/gpu)"));
            }
        }
        int gpus = res == null || res.gpus == null ? 1 : res.gpus;
        if (gpus == 0 && job.getSpec().training != null && job.getSpec().training.precision == Precision.FP16) {
            out.add(new Violation("spec.training.precision", "fp16 needs a GPU (spec.resources.gpus is 0): use bf16, fp32 or "
                    + "auto on the CPU"));
        }
        out.addAll(CredentialEnv.check(job.getSpec()));
        return out;
    }

    private static void quantity(List<Violation> out, String field, String value) {
        if (value == null) {
            return;
        }
        try {
            if (Quantity.getAmountInBytes(new Quantity(value)).signum() <= 0) {
                out.add(new Violation(field, "must be a positive quantity, got '" + value + "'"));
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            out.add(new Violation(field, "is not a Kubernetes quantity (e.g. 8, 500m, 64Gi), got '" + value + "'"));
        }
    }
}
