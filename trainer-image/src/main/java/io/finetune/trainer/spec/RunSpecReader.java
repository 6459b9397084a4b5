package io.finetune.trainer.spec;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.DatasetSpec;
import io.finetune.api.v1alpha1.EvaluationSpec;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraInit;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.OutputSpec;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.api.v1alpha1.QuantizationSpec;
import io.finetune.api.v1alpha1.RecordPolicy;
import io.finetune.api.v1alpha1.ResourcesSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.quant.QuantType;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The manifest reader: a FineTuneJob (already parsed and validated by {@code FineTuneJobManifest}) becomes one
 * {@link RunSpec}. Every default comes from the CRD's own field initialisers (a fresh {@code TrainingSpec}, {@code LoraSpec},
 * ...), so the schema, {@code kubectl explain} and the trainer cannot disagree; a field the manifest sets to null takes the
 * same default. The manifest's own rules are {@code FineTuneJobValidator}'s (run when the manifest is read); the records
 * here re-check only what they need to be well-formed.
 */
public final class RunSpecReader {
    private static final TrainingSpec TRAINING_DEFAULTS = new TrainingSpec();
    private static final DatasetSpec DATASET_DEFAULTS = new DatasetSpec();
    private static final LoraSpec LORA_DEFAULTS = new LoraSpec();
    private static final GaloreSpec GALORE_DEFAULTS = new GaloreSpec();
    private static final ResourcesSpec RESOURCES_DEFAULTS = new ResourcesSpec();
    private static final QuantizationSpec QUANTIZATION_DEFAULTS = new QuantizationSpec();

    private RunSpecReader() {
    }

    /** The run {@code job} describes; {@code uid} overrides the manifest's uid where the caller knows better (the pod). */
    public static RunSpec read(FineTuneJob job, String uid) {
        FineTuneJobSpec spec = job.getSpec();
        if (spec == null || spec.model == null || spec.dataset == null || spec.method == null || spec.output == null) {
            throw new IllegalArgumentException("the FineTuneJob needs spec.model, spec.dataset, spec.method and spec.output");
        }
        String name = job.getMetadata() == null ? null : job.getMetadata().getName();
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("metadata.name is required");
        }
        String manifestUid = job.getMetadata().getUid();
        RunSpec.JobRef ref = new RunSpec.JobRef(name, job.getMetadata().getNamespace(),
                uid != null && !uid.isBlank() ? uid : manifestUid);
        Sources sources = new Sources(spec.model.source, spec.model.tokenizer, spec.dataset.source, spec.dataset.evalSource);
        Integer timeout = spec.resources == null ? null : spec.resources.collectiveTimeoutSeconds;
        return new RunSpec(ref, sources, data(spec.dataset), method(spec.method), training(spec.training),
                evaluation(spec.evaluation), output(spec.output),
                Duration.ofSeconds(or(timeout, RESOURCES_DEFAULTS.collectiveTimeoutSeconds)),
                Math.max(1, spec.resources == null || spec.resources.gpus == null ? 1 : spec.resources.gpus),
                Optional.ofNullable(spec.model.quantization).map(RunSpecReader::quantization));
    }

    /** {@code spec.model.quantization}, defaults applied. */
    static QuantizationSettings quantization(QuantizationSpec q) {
        QuantizationSpec d = QUANTIZATION_DEFAULTS;
        if (q.type == null) {
            throw new IllegalArgumentException("spec.model.quantization.type is required: nf4 or fp4");
        }
        QuantType type = switch (q.type) {
            case NF4 -> QuantType.NF4;
            case FP4 -> QuantType.FP4;
        };
        return new QuantizationSettings(type, or(q.doubleQuant, d.doubleQuant), or(q.computeDtype, d.computeDtype));
    }

    public static RunSpec read(FineTuneJob job) {
        return read(job, null);
    }

    /** Parses, validates and resolves a manifest file (one FineTuneJob). */
    public static RunSpec readFile(Path manifest) throws IOException {
        return read(FineTuneJobManifest.read(manifest));
    }

    /** {@code spec.training}, defaults applied (null: every default). */
    public static TrainingSettings training(TrainingSpec t) {
        TrainingSpec d = TRAINING_DEFAULTS;
        TrainingSpec s = t == null ? d : t;
        return new TrainingSettings(or(s.epochs, d.epochs), s.maxSteps, or(s.learningRate, d.learningRate),
                or(s.batchSize, d.batchSize), or(s.gradientAccumulationSteps, d.gradientAccumulationSteps),
                or(s.warmupSteps, d.warmupSteps), or(s.scheduler, d.scheduler), or(s.weightDecay, d.weightDecay),
                or(s.maxGradNorm, d.maxGradNorm), or(s.seed, d.seed), or(s.checkpointEverySteps, d.checkpointEverySteps),
                or(s.keepCheckpoints, d.keepCheckpoints),
                or(s.logEverySteps, d.logEverySteps), or(s.precision, Precision.AUTO));
    }

    /** {@code spec.dataset}'s reading settings, defaults applied. */
    public static DataSettings data(DatasetSpec s) {
        DatasetSpec d = DATASET_DEFAULTS;
        // Truncate means nothing for a malformed record (the validator refuses it): anything but Skip fails, the safe side.
        RecordPolicy invalid = s.invalidRecords == RecordPolicy.Skip ? RecordPolicy.Skip : RecordPolicy.Fail;
        return new DataSettings(s.format, s.evalFractionOrDefault(), or(s.maxSeqLength, d.maxSeqLength),
                or(s.packing, d.packing), invalid, or(s.overlongRecords, d.overlongRecords));
    }

    /** {@code spec.method}: the type with its settings block, or that block's defaults when the manifest left it out. */
    public static MethodSettings method(MethodSpec m) {
        if (m == null || m.type == null) {
            throw new IllegalArgumentException("spec.method.type is required (LoRA, DoRA, LoRAPlus, GaLore or Full)");
        }
        return switch (m.type) {
            case LoRA, DoRA -> lora(m.type, m.lora, 1.0);
            case LoRAPlus -> {
                Double ratio = m.loraPlus == null ? null : m.loraPlus.learningRateRatio;
                if (ratio == null || !(ratio >= 1)) {
                    throw new IllegalArgumentException("spec.method.loraPlus.learningRateRatio is required and must be >= 1,"
                            + " got " + ratio);
                }
                yield lora(MethodType.LoRAPlus, m.lora, ratio);
            }
            case GaLore -> galore(m.galore);
            case Full -> FullSettings.INSTANCE;
        };
    }

    /** {@code spec.evaluation}; {@link EvaluationSettings#NONE} when absent. */
    public static EvaluationSettings evaluation(EvaluationSpec e) {
        if (e == null) {
            return EvaluationSettings.NONE;
        }
        return new EvaluationSettings(e.maxEvalLoss, e.minRelativeImprovement,
                e.evalEverySteps == null ? 0 : Math.max(0, e.evalEverySteps));
    }

    static OutputSettings output(OutputSpec o) {
        return new OutputSettings(o.destination, Boolean.TRUE.equals(o.merge));
    }

    /** The LoRA block's defaults (the plan uses them for LoRA methods that are not the job's). */
    static LoraSettings defaultLora() {
        return lora(MethodType.LoRA, null, 1.0);
    }

    /** The GaLore block's defaults. */
    static GaloreSettings defaultGalore() {
        return galore(null);
    }

    private static LoraSettings lora(MethodType type, LoraSpec block, double ratio) {
        LoraSpec d = LORA_DEFAULTS;
        LoraSpec s = block == null ? d : block;
        return new LoraSettings(type, or(s.rank, d.rank), or(s.alpha, d.alpha), or(s.dropout, d.dropout),
                targets(s.targetModules, d.targetModules), or(s.rsLoRA, d.rsLoRA), or(s.init, LoraInit.DEFAULT), ratio);
    }

    private static GaloreSettings galore(GaloreSpec block) {
        GaloreSpec d = GALORE_DEFAULTS;
        GaloreSpec s = block == null ? d : block;
        return new GaloreSettings(or(s.rank, d.rank), or(s.updateProjectionGap, d.updateProjectionGap),
                or(s.scale, d.scale).floatValue(), targets(s.targetModules, d.targetModules));
    }

    private static List<String> targets(List<String> given, List<String> defaults) {
        return given == null || given.isEmpty() ? defaults : given;
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

}
