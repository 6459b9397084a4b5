package io.finetune.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.Batcher;
import io.finetune.trainer.data.DatasetLoader;
import io.finetune.trainer.data.LoadedDataset;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.io.ModelWeights;
import io.finetune.trainer.io.SafetensorsWriter;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelBatch;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.plan.PlanCheck;
import io.finetune.trainer.precision.ComputePrecision;
import io.finetune.trainer.precision.PrecisionResolver;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Runs a FineTuneJob on this machine: resolve sources, load tokenizer + data + model, attach the method, train (resuming from
 * output/checkpoints), then write the output directory (CONTRACTS.md D) and training_summary.json.
 */
public final class JobRunner {
    public static final String SUMMARY = "training_summary.json";
    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).findAndRegisterModules();

    /** Called with the trained model before it is closed (the quick start decodes samples with it). */
    @FunctionalInterface
    public interface AfterTraining {
        void accept(LlamaModel model, TextTokenizer tokenizer) throws IOException;
    }

    private JobRunner() {
    }

    public static Path defaultOutput(FineTuneJob job) {
        String dest = job.getSpec().output.destination;
        return dest.startsWith("file:") ? Sources.local(dest, "spec.output.destination")
                : Path.of("out", job.getMetadata().getName());
    }

    public static TrainingSummary run(FineTuneJob job, Path output, PrintStream log, AfterTraining after) throws IOException {
        return run(job, Inputs.local(job.getSpec()), output, log, after, TrainingHooks.NONE);
    }

    /** As {@link #run(FineTuneJob, Path, PrintStream, AfterTraining)} with sources already fetched and loop hooks. */
    public static TrainingSummary run(FineTuneJob job, Inputs inputs, Path output, PrintStream log, AfterTraining after,
                                      TrainingHooks hooks) throws IOException {
        FineTuneJobSpec spec = job.getSpec();
        Path modelDir = inputs.modelDir();
        Path tokDir = inputs.tokenizerDir();
        Path trainFile = inputs.trainFile();
        Path evalFile = inputs.evalFile();
        long seed = spec.training.seed;
        Files.createDirectories(output);
        PlanCheck.beforeTraining(spec, modelDir); // on a GPU: fail fast when the memory plan cannot fit
        // before any weight loads: fp16 on the CPU, or bf16 on a pre-Ampere GPU, fails here with the field's name
        ComputePrecision precision = PrecisionResolver.resolve(spec.training.precision,
                PrecisionResolver.DeviceCapabilities.of(Engine.getInstance().defaultDevice()));
        try (TextTokenizer tok = TextTokenizer.load(tokDir);
             LlamaModel model = LlamaModel.load(modelDir, NDManager.newBaseManager())) {
            if (tok.vocabSize() > model.config().vocabSize()) {
                throw new ModelException(tokDir + ": tokenizer has " + tok.vocabSize() + " tokens but " + modelDir
                        + "/config.json has vocab_size " + model.config().vocabSize());
            }
            LoadedDataset data = DatasetLoader.load(spec.dataset, trainFile, evalFile, tok, seed);
            log.printf("data: %s%n", data.stats());
            TrainingMethod method = TrainingMethods.create(spec.method);
            method.attach(model, seed);
            model.usePrecision(precision);
            log.printf("precision: %s (spec.training.precision %s) on %s%n", precision, spec.training.precision,
                    model.manager().getDevice());
            int maxLen = spec.dataset.maxSeqLength;
            Batcher batcher = new Batcher(data.train(), spec.training.batchSize, maxLen, spec.dataset.packing, tok.padId());
            List<ModelBatch> eval = Batcher.sequential(data.eval(), spec.training.batchSize, maxLen, tok.padId()).stream()
                    .map(JobRunner::toModel).toList();
            BatchSource source = new BatchSource() {
                @Override
                public int batchesPerEpoch() {
                    return batcher.batchesPerEpoch();
                }

                @Override
                public List<ModelBatch> epoch(long s, int epoch) {
                    return batcher.epoch(s, epoch).stream().map(JobRunner::toModel).toList();
                }
            };
            Trainer trainer = new Trainer(model, method, spec.training, source, eval, output, log);
            trainer.hooks(hooks);
            if (spec.evaluation != null && spec.evaluation.evalEverySteps != null) {
                trainer.evalEvery(spec.evaluation.evalEverySteps);
            }
            long trainable = method.trainableParameters(model).stream().mapToLong(p -> p.numel()).sum();
            log.printf("%s: %s on %s, %,d trainable of %,d parameters (%.2f%%), %d steps%n", job.getMetadata().getName(),
                    method.type(), modelDir, trainable, model.totalParameters(), 100.0 * trainable / model.totalParameters(),
                    trainer.totalSteps());
            TrainingSummary s = trainer.run();
            EvaluationGate.Verdict gate = EvaluationGate.check(spec.evaluation, s.evalLossBefore(), s.evalLossAfter());
            if (gate != null) {
                log.printf("%s%n", gate.message());
            }
            // A rejected run's weights go under rejected/: kept for inspection, never where a server would load them.
            Path target = gate == null || gate.passed() ? output : output.resolve(EvaluationGate.REJECTED_DIR);
            Files.createDirectories(target);
            method.saveOutput(model, target, spec.model.source);
            if (!method.type().isAdapter()) {
                copyModelFiles(modelDir, tokDir, target);
            } else if (Boolean.TRUE.equals(spec.output.merge)) {
                Path merged = target.resolve("merged");
                Files.createDirectories(merged);
                SafetensorsWriter.write(merged.resolve(ModelWeights.SINGLE), MergedWeights.of(model));
                copyModelFiles(modelDir, tokDir, merged);
            }
            TrainingSummary summary = new TrainingSummary(s.method(), s.steps(), s.trainLoss(), s.evalLossBefore(),
                    s.evalLossAfter(), s.trainableParameters(), s.totalParameters(), s.optimizerStateBytes(), s.tokensPerSecond(),
                    s.durationSeconds(), s.lossCurve(), data.stats(), s.memory(), s.bestStep(), gate);
            JSON.writeValue(target.resolve(SUMMARY).toFile(), summary);
            if (after != null) {
                after.accept(model, tok);
            }
            return summary;
        }
    }

    static ModelBatch toModel(Batch b) {
        return new ModelBatch(b.batchSize(), b.seqLen(), b.inputIds(), b.labels(), b.positionIds(), b.segmentIds(), b.lossTokens());
    }

    private static void copyModelFiles(Path modelDir, Path tokDir, Path dest) throws IOException {
        Files.copy(modelDir.resolve("config.json"), dest.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
        for (String f : TOKENIZER_FILES) {
            if (Files.isRegularFile(tokDir.resolve(f))) {
                Files.copy(tokDir.resolve(f), dest.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
