package io.finetune.api;

import io.finetune.api.v1alpha1.ComputeDtype;
import io.finetune.api.v1alpha1.DatasetSpec;
import io.finetune.api.v1alpha1.EvaluationSpec;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.api.v1alpha1.QuantizationSpec;
import io.finetune.api.v1alpha1.RecordPolicy;
import io.finetune.api.v1alpha1.ResourcesSpec;
import io.finetune.api.v1alpha1.TargetModules;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.api.v1alpha1.Uris;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Checks a spec beyond what the API server's schema enforces, so that the operator (which may run against a server without
 * CEL) and the local trainer reject the same inputs with the same field-naming messages.
 */
public final class FineTuneJobValidator {
    private static final Pattern URI = Pattern.compile(Uris.PATTERN);
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$");

    private FineTuneJobValidator() {
    }

    /** All violations of the spec; empty when it can run. */
    public static List<Violation> validate(FineTuneJobSpec spec) {
        List<Violation> out = new ArrayList<>();
        if (spec == null) {
            out.add(new Violation("spec", "is required"));
            return out;
        }
        if (spec.model == null) {
            out.add(new Violation("spec.model", "is required"));
        } else {
            uri(out, "spec.model.source", spec.model.source, true);
            uri(out, "spec.model.tokenizer", spec.model.tokenizer, false);
            secretName(out, "spec.model.credentialsSecret", spec.model.credentialsSecret);
        }
        dataset(out, spec.dataset);
        method(out, spec.method);
        training(out, spec.training);
        quantization(out, spec);
        evaluation(out, spec);
        if (spec.output == null) {
            out.add(new Violation("spec.output", "is required"));
        } else {
            uri(out, "spec.output.destination", spec.output.destination, true);
            String dest = spec.output.destination;
            if (dest != null && (dest.startsWith("hf://") || dest.startsWith("http://") || dest.startsWith("https://"))) {
                out.add(new Violation("spec.output.destination",
                        "must be a writable location (pvc://, s3:// or file://), got '" + dest + "'"));
            }
            secretName(out, "spec.output.credentialsSecret", spec.output.credentialsSecret);
        }
        resources(out, spec.resources);
        nonNegative(out, "spec.backoffLimit", spec.backoffLimit);
        if (spec.activeDeadlineSeconds != null && spec.activeDeadlineSeconds < 1) {
            out.add(new Violation("spec.activeDeadlineSeconds", "must be >= 1, got " + spec.activeDeadlineSeconds));
        }
        nonNegative(out, "spec.ttlSecondsAfterFinished", spec.ttlSecondsAfterFinished);
        if (spec.queueName != null && !DNS_SUBDOMAIN.matcher(spec.queueName).matches()) {
            out.add(new Violation("spec.queueName", "must be a Kueue LocalQueue name (DNS subdomain), got '" + spec.queueName + "'"));
        }
        return out;
    }

    private static void dataset(List<Violation> out, DatasetSpec d) {
        if (d == null) {
            out.add(new Violation("spec.dataset", "is required"));
            return;
        }
        uri(out, "spec.dataset.source", d.source, true);
        uri(out, "spec.dataset.evalSource", d.evalSource, false);
        if (d.evalSource != null && d.evalFraction != null) {
            out.add(new Violation("spec.dataset.evalFraction", "set evalSource or evalFraction, not both"));
        }
        if (d.evalFraction != null && (d.evalFraction < 0 || d.evalFraction > 0.5)) {
            out.add(new Violation("spec.dataset.evalFraction", "must be between 0 and 0.5, got " + d.evalFraction));
        }
        if (d.maxSeqLength != null && (d.maxSeqLength < 8 || d.maxSeqLength > 131072)) {
            out.add(new Violation("spec.dataset.maxSeqLength", "must be between 8 and 131072, got " + d.maxSeqLength));
        }
        if (d.invalidRecords == RecordPolicy.Truncate) {
            out.add(new Violation("spec.dataset.invalidRecords", "must be Fail or Skip, got Truncate"));
        }
        secretName(out, "spec.dataset.credentialsSecret", d.credentialsSecret);
    }

    private static void method(List<Violation> out, MethodSpec m) {
        if (m == null) {
            out.add(new Violation("spec.method", "is required"));
            return;
        }
        if (m.type == null) {
            out.add(new Violation("spec.method.type", "is required: one of LoRA, DoRA, LoRAPlus, GaLore, Full"));
            return;
        }
        if (m.lora != null && !m.type.isAdapter()) {
            out.add(new Violation("spec.method.lora", "is only for LoRA, DoRA and LoRAPlus, but type is " + m.type));
        }
        if (m.loraPlus != null && m.type != MethodType.LoRAPlus) {
            out.add(new Violation("spec.method.loraPlus", "is only for LoRAPlus, but type is " + m.type));
        }
        if (m.galore != null && m.type != MethodType.GaLore) {
            out.add(new Violation("spec.method.galore", "is only for GaLore, but type is " + m.type));
        }
        if (m.type == MethodType.LoRAPlus) {
            if (m.loraPlus == null || m.loraPlus.learningRateRatio == null) {
                out.add(new Violation("spec.method.loraPlus.learningRateRatio", "is required for LoRAPlus (e.g. 16)"));
            } else if (m.loraPlus.learningRateRatio < 1) {
                out.add(new Violation("spec.method.loraPlus.learningRateRatio",
                        "must be >= 1, got " + m.loraPlus.learningRateRatio));
            }
        }
        if (m.type.isAdapter()) {
            lora(out, m.loraOrDefault());
        }
        if (m.type == MethodType.GaLore) {
            galore(out, m.galoreOrDefault());
        }
    }

    private static void lora(List<Violation> out, LoraSpec l) {
        if (l.rank == null || l.rank < 1 || l.rank > 1024) {
            out.add(new Violation("spec.method.lora.rank", "must be between 1 and 1024, got " + l.rank));
        }
        if (l.alpha == null || !(l.alpha > 0)) {
            out.add(new Violation("spec.method.lora.alpha", "must be > 0, got " + l.alpha));
        }
        if (l.dropout == null || l.dropout < 0 || l.dropout >= 1) {
            out.add(new Violation("spec.method.lora.dropout", "must be in [0, 1), got " + l.dropout));
        }
        targets(out, "spec.method.lora.targetModules", l.targetModules);
    }

    private static void galore(List<Violation> out, GaloreSpec g) {
        if (g.rank == null || g.rank < 1 || g.rank > 8192) {
            out.add(new Violation("spec.method.galore.rank", "must be between 1 and 8192, got " + g.rank));
        }
        if (g.updateProjectionGap == null || g.updateProjectionGap < 1) {
            out.add(new Violation("spec.method.galore.updateProjectionGap", "must be >= 1, got " + g.updateProjectionGap));
        }
        if (g.scale == null || !(g.scale > 0)) {
            out.add(new Violation("spec.method.galore.scale", "must be > 0, got " + g.scale));
        }
        targets(out, "spec.method.galore.targetModules", g.targetModules);
    }

    private static void targets(List<Violation> out, String field, List<String> targets) {
        if (targets == null || targets.isEmpty()) {
            out.add(new Violation(field, "must name at least one module (e.g. q_proj) or be [all-linear]"));
            return;
        }
        boolean allLinear = targets.stream().anyMatch(TargetModules.ALL_LINEAR::equalsIgnoreCase);
        if (allLinear && targets.size() > 1) {
            out.add(new Violation(field, "all-linear must be the only entry, got " + targets));
        }
        for (String t : targets) {
            if (t == null || t.isBlank() || !t.matches("[A-Za-z0-9_.\\-]+")) {
                out.add(new Violation(field, "entry '" + t + "' is not a module name"));
            }
        }
    }

    /**
     * A 4-bit base is frozen by construction: only adapter methods train over it (QLoRA, QDoRA); Full and GaLore update the
     * base weights themselves, which 4-bit codes cannot hold.
     */
    private static void quantization(List<Violation> out, FineTuneJobSpec spec) {
        QuantizationSpec q = spec.model == null ? null : spec.model.quantization;
        if (q == null) {
            return;
        }
        if (q.type == null) {
            out.add(new Violation("spec.model.quantization.type", "is required: nf4 or fp4"));
        }
        MethodType type = spec.method == null ? null : spec.method.type;
        if (type != null && !type.isAdapter()) {
            out.add(new Violation("spec.model.quantization", "holds the base weights in 4 bits, which only LoRA, DoRA and "
                    + "LoRAPlus can train over; " + type + " updates the base weights themselves: remove "
                    + "spec.model.quantization or choose an adapter method"));
        }
        Precision p = spec.training == null ? null : spec.training.precision;
        if (q.computeDtype == ComputeDtype.BF16 && p != null && p != Precision.AUTO && p != Precision.BF16
                || q.computeDtype == ComputeDtype.FP32 && p != null && p != Precision.AUTO && p != Precision.FP32) {
            out.add(new Violation("spec.model.quantization.computeDtype", q.computeDtype.name().toLowerCase(Locale.ROOT)
                    + " contradicts spec.training.precision " + p.name().toLowerCase(Locale.ROOT)
                    + ": set one of them, or the same dtype in both"));
        }
    }

    private static void training(List<Violation> out, TrainingSpec t) {
        if (t == null) {
            return;
        }
        if (t.learningRate == null || !(t.learningRate > 0) || t.learningRate > 1) {
            out.add(new Violation("spec.training.learningRate", "must be > 0 and <= 1, got " + t.learningRate));
        }
        positive(out, "spec.training.epochs", t.epochs);
        positive(out, "spec.training.maxSteps", t.maxSteps);
        positive(out, "spec.training.batchSize", t.batchSize);
        positive(out, "spec.training.gradientAccumulationSteps", t.gradientAccumulationSteps);
        positive(out, "spec.training.logEverySteps", t.logEverySteps);
        positive(out, "spec.training.keepCheckpoints", t.keepCheckpoints);
        nonNegative(out, "spec.training.warmupSteps", t.warmupSteps);
        nonNegative(out, "spec.training.checkpointEverySteps", t.checkpointEverySteps);
        if (t.weightDecay != null && t.weightDecay < 0) {
            out.add(new Violation("spec.training.weightDecay", "must be >= 0, got " + t.weightDecay));
        }
        if (t.maxGradNorm != null && t.maxGradNorm < 0) {
            out.add(new Violation("spec.training.maxGradNorm", "must be >= 0 (0 disables clipping), got " + t.maxGradNorm));
        }
    }

    private static void evaluation(List<Violation> out, FineTuneJobSpec spec) {
        EvaluationSpec e = spec.evaluation;
        if (e == null) {
            return;
        }
        if (e.maxEvalLoss != null && !(e.maxEvalLoss > 0)) {
            out.add(new Violation("spec.evaluation.maxEvalLoss", "must be > 0, got " + e.maxEvalLoss));
        }
        if (e.minRelativeImprovement != null && !(e.minRelativeImprovement >= 0 && e.minRelativeImprovement < 1)) {
            out.add(new Violation("spec.evaluation.minRelativeImprovement", "must be >= 0 and < 1 (0.05 = 5% lower), got "
                    + e.minRelativeImprovement));
        }
        positive(out, "spec.evaluation.evalEverySteps", e.evalEverySteps);
        if (spec.dataset != null && spec.dataset.evalSource == null && spec.dataset.evalFraction != null
                && spec.dataset.evalFraction == 0) {
            out.add(new Violation("spec.evaluation", "needs held-out data, but spec.dataset.evalFraction is 0 and no "
                    + "spec.dataset.evalSource is set"));
        }
    }

    private static void resources(List<Violation> out, ResourcesSpec r) {
        if (r == null) {
            return;
        }
        if (r.gpus != null && (r.gpus < 0 || r.gpus > 64)) {
            out.add(new Violation("spec.resources.gpus", "must be between 0 and 64, got " + r.gpus));
        }
        if (r.nodes != null && (r.nodes < 1 || r.nodes > 256)) {
            out.add(new Violation("spec.resources.nodes", "must be between 1 and 256, got " + r.nodes));
        }
        if (r.collectiveTimeoutSeconds != null && (r.collectiveTimeoutSeconds < 1 || r.collectiveTimeoutSeconds > 86400)) {
            out.add(new Violation("spec.resources.collectiveTimeoutSeconds", "must be between 1 and 86400, got "
                    + r.collectiveTimeoutSeconds));
        }
        if (r.gpuResourceName != null && r.gpuResourceName.isBlank()) {
            out.add(new Violation("spec.resources.gpuResourceName", "must not be empty (e.g. nvidia.com/gpu)"));
        }
        if (r.priorityClassName != null && !DNS_SUBDOMAIN.matcher(r.priorityClassName).matches()) {
            out.add(new Violation("spec.resources.priorityClassName", "must be a DNS subdomain, got '" + r.priorityClassName + "'"));
        }
    }

    private static void uri(List<Violation> out, String field, String value, boolean required) {
        if (value == null || value.isBlank()) {
            if (required) {
                out.add(new Violation(field, "is required: a URI with scheme " + Uris.SCHEMES));
            }
            return;
        }
        if (!URI.matcher(value).matches()) {
            int colon = value.indexOf("://");
            String scheme = colon > 0 ? value.substring(0, colon) : "(none)";
            out.add(new Violation(field, "unsupported URI '" + value + "' (scheme " + scheme + "); use one of " + Uris.SCHEMES));
        }
    }

    private static void secretName(List<Violation> out, String field, String name) {
        if (name != null && (name.length() > 253 || !DNS_SUBDOMAIN.matcher(name).matches())) {
            out.add(new Violation(field, "must be the name of a Secret (DNS subdomain), got '" + name + "'"));
        }
    }

    private static void positive(List<Violation> out, String field, Integer v) {
        if (v != null && v < 1) {
            out.add(new Violation(field, "must be >= 1, got " + v));
        }
    }

    private static void nonNegative(List<Violation> out, String field, Integer v) {
        if (v != null && v < 0) {
            out.add(new Violation(field, "must be >= 0, got " + v));
        }
    }
}
