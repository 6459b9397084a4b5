package io.finetune.trainer.preflight;

import io.finetune.api.PreflightResult.Reason;
import io.finetune.api.PreflightResult;
import io.finetune.api.v1alpha1.PreflightStatus;
import io.finetune.api.v1alpha1.TargetModules;
import io.finetune.trainer.data.DataStats;
import io.finetune.trainer.data.DatasetException;
import io.finetune.trainer.data.DatasetLoader;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.plan.ByteQuantity;
import io.finetune.trainer.plan.MemoryPlan;
import io.finetune.trainer.spec.LoraSettings;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The checks a job passes on a CPU before a GPU is requested, cheapest first: config.json and the tokenizer (never the
 * weights) and the destination are reachable; targetModules resolve against the model's module names; the memory plan fits
 * the GPU; the dataset parses under the record policies (the training loader itself, so the verdict and the file:line are
 * those training would hit).
 */
public final class Preflight {

    private Preflight() {
    }

    /** @param gpuMemoryBytes the GPU to plan for, or null (memory not checked: {@code gpuMemoryNote} says why) */
    public static PreflightResult check(RunSpec spec, Storage storage, Path scratch, Long gpuMemoryBytes,
                                        String gpuMemoryNote) throws IOException {
        PreflightStatus report = new PreflightStatus();
        Path modelDir = Files.createDirectories(scratch.resolve("preflight-model"));
        try {
            copy(storage.fetchFile(child(spec.sources().model(), ModelConfig.FILE_NAME)), modelDir.resolve(ModelConfig.FILE_NAME));
            String tokSource = spec.sources().tokenizerOrModel();
            for (String f : OutputTarget.TOKENIZER_FILES) {
                try {
                    copy(storage.fetchFile(child(tokSource, f)), modelDir.resolve(f));
                } catch (StorageException e) {
                    if (f.equals("tokenizer.json") || e.reason() != StorageException.Reason.NOT_FOUND) {
                        throw e;
                    }
                }
            }
            // one listing of the destination's checkpoints (bucket and credentials), never a download: this pod has 2 GiB
            storage.latestCheckpointStep(spec.output().destination());
        } catch (StorageException e) {
            return PreflightResult.failed(Reason.StorageError, e.getMessage(), report);
        }
        ModelConfig dims;
        try {
            dims = ModelConfig.read(modelDir); // the reader training uses: what passes here, loads there
        } catch (RuntimeException e) {
            return PreflightResult.failed(Reason.InvalidModel, spec.sources().model() + "/config.json: " + e.getMessage(), report);
        }
        String missing = unresolvedTargets(spec, dims);
        if (missing != null) {
            return PreflightResult.failed(Reason.TargetModulesNotFound, missing, report);
        }
        MemoryPlan plan = MemoryPlan.of(dims, spec.method(), PlanInputs.from(spec, true),
                gpuMemoryBytes == null ? Long.MAX_VALUE : gpuMemoryBytes);
        MemoryEstimate e = plan.estimate(spec.method().type());
        report.plannedBytes = planned(e);
        if (gpuMemoryBytes == null) {
            report.note = gpuMemoryNote;
        } else {
            report.gpuMemoryBytes = gpuMemoryBytes;
            report.fits = plan.fits(spec.method().type());
            if (!report.fits) {
                return PreflightResult.failed(Reason.InsufficientGPUMemory, doesNotFit(spec, plan, e, gpuMemoryBytes), report);
            }
        }
        try (TextTokenizer tok = TextTokenizer.load(modelDir)) {
            Path train = storage.fetchFile(spec.sources().dataset());
            String evalSource = spec.sources().evalDataset();
            Path eval = evalSource == null ? null : storage.fetchFile(evalSource);
            DataStats stats = DatasetLoader.load(spec.data(), train, eval, tok, spec.training().seed()).stats();
            report.records = (long) stats.records();
            report.tokens = stats.trainTokens();
            report.truncated = (long) stats.truncated();
            report.skipped = (long) stats.skippedInvalid() + stats.skippedOverlong();
        } catch (DatasetException ex) {
            return PreflightResult.failed(Reason.InvalidDataset, ex.getMessage(), report);
        } catch (StorageException ex) {
            return PreflightResult.failed(Reason.StorageError, ex.getMessage(), report);
        }
        return PreflightResult.passed(String.format(Locale.ROOT, "%d records, %d training tokens (%d truncated, %d skipped); "
                        + "planned %s on %s%s", report.records, report.tokens, report.truncated, report.skipped,
                ByteQuantity.format(report.plannedBytes.total),
                spec.ranksPerPod() > 1 ? "each of " + spec.ranksPerPod() + " GPUs (one data-parallel rank per GPU)" : "the GPU",
                report.fits == null ? " (" + gpuMemoryNote + ")" : " of " + ByteQuantity.format(gpuMemoryBytes)), report);
    }

    /** Null when every entry selects at least one linear module; else the message listing the names that exist. */
    static String unresolvedTargets(RunSpec spec, ModelConfig dims) {
        if (!(spec.method() instanceof LoraSettings lora)) {
            return null;
        }
        List<String> entries = lora.targetModules();
        List<String> names = dims.linears().stream().map(ModelConfig.LinearShape::name)
                .filter(n -> !n.equals(ModelConfig.LM_HEAD)).toList();
        List<String> unmatched = new ArrayList<>();
        for (String entry : entries) {
            if (names.stream().noneMatch(n -> TargetModules.matches(List.of(entry), n))) {
                unmatched.add(entry);
            }
        }
        if (unmatched.isEmpty()) {
            return null;
        }
        Set<String> leaves = new LinkedHashSet<>();
        Set<String> parents = new LinkedHashSet<>();
        for (String n : names) {
            String[] parts = n.split("\\.");
            leaves.add(parts[parts.length - 1]);
            if (parts.length >= 2) {
                parents.add(parts[parts.length - 2]);
            }
        }
        return "spec.method.lora.targetModules: " + String.join(", ", unmatched) + (unmatched.size() == 1 ? " matches" : " match")
                + " no module of " + spec.sources().model() + " (model_type " + dims.modelType() + "); its linear modules are "
                + String.join(", ", leaves) + " (parents: " + String.join(", ", parents) + "), or use all-linear";
    }

    private static String doesNotFit(RunSpec spec, MemoryPlan plan, MemoryEstimate e, long gpu) {
        String fitting = plan.fittingMethods();
        return String.format(Locale.ROOT, "%s needs %s on the GPU (weights %s, gradients %s, optimizer %s, activations %s for "
                        + "micro-batch %d x %d, plus %s runtime reserve) but the GPU has %s; methods that fit: %s; or lower "
                        + "spec.training.batchSize (keep the effective batch with gradientAccumulationSteps), "
                        + "spec.dataset.maxSeqLength or spec.method.lora.rank",
                spec.method().type(), ByteQuantity.format(e.totalBytes() + MemoryPlan.RUNTIME_RESERVE_BYTES),
                ByteQuantity.format(e.weightBytes()), ByteQuantity.format(e.gradientBytes()),
                ByteQuantity.format(e.optimizerStateBytes()), ByteQuantity.format(e.activationBytes()),
                plan.inputs().batchSize(), plan.inputs().seqLength(), ByteQuantity.format(MemoryPlan.RUNTIME_RESERVE_BYTES),
                ByteQuantity.format(gpu), fitting);
    }

    private static PreflightStatus.PlannedBytes planned(MemoryEstimate e) {
        PreflightStatus.PlannedBytes p = new PreflightStatus.PlannedBytes();
        p.weights = e.weightBytes();
        p.gradients = e.gradientBytes();
        p.optimizer = e.optimizerStateBytes();
        p.activations = e.activationBytes();
        p.total = e.totalBytes() + MemoryPlan.RUNTIME_RESERVE_BYTES;
        return p;
    }

    static String child(String dirUri, String file) {
        return (dirUri.endsWith("/") ? dirUri : dirUri + "/") + file;
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
}
