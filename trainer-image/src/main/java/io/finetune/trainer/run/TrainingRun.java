package io.finetune.trainer.run;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.finetune.api.Serving;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.Metrics;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.Batcher;
import io.finetune.trainer.data.DatasetLoader;
import io.finetune.trainer.data.LoadedDataset;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.method.MethodOutput;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.plan.PlanCheck;
import io.finetune.trainer.precision.ComputePrecision;
import io.finetune.trainer.precision.PrecisionResolver;
import io.finetune.trainer.storage.PublishedArtifact;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.storage.StorageUri;
import io.finetune.trainer.train.BatchSource;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One training run, the one place that says what a run is; the {@code run}, {@code pod} and {@code quickstart} commands all
 * call {@link #run}:
 * <ol>
 *   <li>fetch: refuse an output that overlaps an input, fetch the sources through {@link Storage} (remote ones land verified
 *       in the cache, file:// and pvc:// are read in place), check the work directory and the destination (empty, or
 *       this run's by its {@link RunIdentity}; the destination writable) and restore the newest checkpoint published
 *       there ({@link OutputClaim}: nothing is marked as this run's until a checkpoint or the output exists, so a run that
 *       fails on a bad input leaves both as it found them);</li>
 *   <li>load the tokenizer, the model (after the memory plan's fail-fast check on a GPU) and the data;</li>
 *   <li>attach the method;</li>
 *   <li>train ({@link Trainer}; each checkpoint is published to {@code <destination>/checkpoints/} as it is written, then
 *       older ones beyond spec.training.keepCheckpoints are pruned);</li>
 *   <li>write the output: the method's files (under {@code rejected/} when the evaluation gate fails) and
 *       {@value RunLayout#SUMMARY};</li>
 *   <li>publish the output directory (files first, manifest.json last).</li>
 * </ol>
 */
public final class TrainingRun {
    /** Overrides where a local run caches downloads (default ~/.cache/finetune-trainer). */
    public static final String CACHE_DIR = "FINETUNE_CACHE_DIR";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).findAndRegisterModules();

    /**
     * How a run treats what it finds at its output locations.
     *
     * @param jobUid         the FineTuneJob's uid where there is one (pod mode), recorded with every checkpoint
     * @param forceNew       move a local output directory holding another run's files aside instead of refusing
     * @param forceNewOffered whether the refusal may suggest --force-new (the CLI has it, the pod does not)
     */
    public record Options(String jobUid, boolean forceNew, boolean forceNewOffered) {
        public static final Options DEFAULT = new Options(null, false, true);
    }

    /** Local paths of a job's sources (model dir, tokenizer dir, train file, optional eval file), whatever their URIs were. */
    public record Inputs(Path modelDir, Path tokenizerDir, Path trainFile, Path evalFile) {
    }

    /**
     * What the run produced: the training summary (as written to {@value RunLayout#SUMMARY}), what the method wrote, and the artifact
     * as published (digest = sha256 of its manifest).
     */
    public record Result(TrainingSummary summary, MethodOutput output, PublishedArtifact artifact) {
        /**
         * The result the operator records: status.memory is the summary's measured figures (the same numbers as
         * {@value RunLayout#SUMMARY}), status.artifact the published artifact with what the method wrote (format, servers). A
         * missed evaluation gate is reported as such, naming where the rejected output is kept.
         */
        public TrainerResult toTrainerResult() {
            TrainingSummary s = summary;
            if (s.gate() != null && !s.gate().passed()) {
                String rejected = RunLayout.rejectedUnder(artifact.uri());
                return TrainerResult.gateFailed(s.gate().message() + "; the output is not published as servable: it is kept"
                        + " for inspection under " + rejected, metrics(s), s.memory(), s.steps());
            }
            Artifact a = new Artifact();
            a.uri = artifact.uri();
            a.digest = artifact.digest();
            a.sizeBytes = artifact.sizeBytes();
            a.format = output.format().wireName();
            Serving.Verdict serving = output.serving();
            a.servableBy = serving.servableBy();
            a.servingNote = serving.vllmProblem() == null ? serving.note()
                    : serving.vllmProblem() + (serving.note() == null ? "" : "; " + serving.note());
            return TrainerResult.succeeded(a, metrics(s), s.memory(), s.steps());
        }

        private static Metrics metrics(TrainingSummary s) {
            Metrics m = new Metrics();
            m.trainLoss = s.trainLoss();
            m.evalLossBefore = s.evalLossBefore();
            m.evalLossAfter = s.evalLossAfter();
            m.bestStep = s.bestStep();
            return m;
        }
    }

    /** Called with the trained model before it is closed (the quick start decodes samples with it). */
    @FunctionalInterface
    public interface AfterTraining {
        AfterTraining NONE = (model, tokenizer) -> { };

        void accept(LlamaModel model, TextTokenizer tokenizer) throws IOException;
    }

    private TrainingRun() {
    }

    /** The work directory when the CLI names none: a file:// destination itself, else out/<job name>. */
    public static Path defaultOutput(FineTuneJob job) {
        String dest = job.getSpec().output.destination;
        return dest.startsWith("file:") ? StorageUri.localFile(dest) : Path.of("out", job.getMetadata().getName());
    }

    /** A run on this machine ({@code run}, {@code quickstart}): storage from this process's environment, downloads cached per user. */
    public static Result local(FineTuneJob job, Path output, PrintStream log, Options options, AfterTraining after)
            throws IOException {
        String cache = System.getenv(CACHE_DIR);
        Path cacheDir = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "finetune-trainer");
        try (Storage storage = Storage.fromEnvironment(cacheDir)) {
            return run(job, storage, output, log, TrainingHooks.NONE, options, after);
        }
    }

    /**
     * @param output local work directory for the output (may be the destination itself for a file:// destination)
     * @param extra  hooks of the caller (progress); checkpoint publishing is added here
     */
    public static Result run(FineTuneJob job, Storage storage, Path output, PrintStream log, TrainingHooks extra,
                             Options options, AfterTraining after) throws IOException {
        FineTuneJobSpec spec = job.getSpec();
        String destination = spec.output.destination;
        boolean inPlace = isSameDirectory(destination, output);
        OutputSafety.check(spec, output, storage::localPath);   // before anything is fetched or loaded
        Inputs inputs = fetch(storage, spec);
        RunIdentity identity = RunIdentity.of(job, inputs, options.jobUid());
        OutputClaim claim = OutputClaim.take(storage, destination, output, inPlace, identity, options, log);
        int keepCheckpoints = spec.training.keepCheckpoints;   // the one reader of spec.training.keepCheckpoints
        TrainingHooks hooks = publishingCheckpoints(extra, identity, storage, destination, output, inPlace, keepCheckpoints,
                log);
        Trained trained;
        try {
            trained = train(job, inputs, output, log, hooks, after);
        } catch (Throwable t) {
            claim.afterFailure(log);   // what holds nothing to protect is left as it was found
            throw t;
        }
        identity.write(output);   // the output now holds an artifact: it is this run's
        PublishedArtifact artifact = storage.publish(output, destination);
        log.printf("published %s (%d files, %d bytes) digest %s%n", artifact.uri(), artifact.files().size(),
                artifact.sizeBytes(), artifact.digest());
        return new Result(trained.summary(), trained.output(), artifact);
    }

    /**
     * The caller's hooks, plus: every checkpoint gets the run's identity and is published to the destination; once it is
     * there in full (its manifest written last), checkpoints older than the {@code keep} newest are pruned at the
     * destination and in the work directory. A crash between the publish and the prune loses nothing: the next prune
     * catches up.
     */
    private static TrainingHooks publishingCheckpoints(TrainingHooks extra, RunIdentity identity, Storage storage,
                                                       String destination, Path output, boolean inPlace, int keep,
                                                       PrintStream log) {
        return new TrainingHooks() {
            @Override
            public void started(int startStep, int totalSteps, double stepsPerEpoch) {
                extra.started(startStep, totalSteps, stepsPerEpoch);
            }

            @Override
            public void stepDone(int done, double loss, double learningRate, long tokens) {
                extra.stepDone(done, loss, learningRate, tokens);
            }

            @Override
            public void checkpointSaved(Path checkpointDir) throws IOException {
                identity.write(checkpointDir);
                List<String> pruned = new ArrayList<>();
                if (!inPlace) {
                    storage.publishCheckpoint(checkpointDir, destination);
                    pruned.addAll(storage.pruneCheckpoints(destination, keep));
                }
                for (String local : Checkpoints.prune(output, keep)) {
                    if (!pruned.contains(local)) {
                        pruned.add(local);
                    }
                }
                if (!pruned.isEmpty()) {
                    log.printf("pruned checkpoints %s (spec.training.keepCheckpoints %d)%n", String.join(", ", pruned), keep);
                }
                extra.checkpointSaved(checkpointDir);
            }
        };
    }

    private record Trained(TrainingSummary summary, MethodOutput output) {
    }

    /** Load the tokenizer, the model and the data, attach the method, train (resuming from output/checkpoints), write. */
    private static Trained train(FineTuneJob job, Inputs inputs, Path output, PrintStream log, TrainingHooks hooks,
                                 AfterTraining after) throws IOException {
        FineTuneJobSpec spec = job.getSpec();
        Path modelDir = inputs.modelDir();
        Path tokDir = inputs.tokenizerDir();
        long seed = spec.training.seed;
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
            LoadedDataset data = DatasetLoader.load(spec.dataset, inputs.trainFile(), inputs.evalFile(), tok, seed);
            log.printf("data: %s%n", data.stats());

            TrainingMethod method = TrainingMethods.create(spec.method);
            method.attach(model, seed);
            model.usePrecision(precision);
            log.printf("precision: %s (spec.training.precision %s) on %s%n", precision, spec.training.precision,
                    model.manager().getDevice());

            int maxLen = spec.dataset.maxSeqLength;
            Batcher batcher = new Batcher(data.train(), spec.training.batchSize, maxLen, spec.dataset.packing, tok.padId());
            List<Batch> eval = Batcher.sequential(data.eval(), spec.training.batchSize, maxLen, tok.padId());
            BatchSource source = new BatchSource() {
                @Override
                public int batchesPerEpoch() {
                    return batcher.batchesPerEpoch();
                }

                @Override
                public List<Batch> epoch(long s, int epoch) {
                    return batcher.epoch(s, epoch);
                }
            };
            Trainer trainer = new Trainer(model, method, spec.training, source, eval, output, log);
            trainer.hooks(hooks);
            trainer.evaluation(spec.evaluation);
            trainer.dataStats(data.stats());
            long trainable = method.trainableParameters(model).stream().mapToLong(p -> p.numel()).sum();
            log.printf("%s: %s on %s, %,d trainable of %,d parameters (%.2f%%), %d steps%n", job.getMetadata().getName(),
                    method.type(), modelDir, trainable, model.totalParameters(), 100.0 * trainable / model.totalParameters(),
                    trainer.totalSteps());
            TrainingSummary summary = trainer.run();
            if (summary.gate() != null) {
                log.printf("%s%n", summary.gate().message());
            }

            // A rejected run's weights go under rejected/: kept for inspection, never where a server would load them.
            Path target = summary.gate() == null || summary.gate().passed() ? output
                    : RunLayout.of(output).rejected();
            Files.createDirectories(target);
            MethodOutput written = method.saveOutput(model, new OutputTarget(target, modelDir, tokDir, spec.model.source,
                    Boolean.TRUE.equals(spec.output.merge)));
            JSON.writeValue(RunLayout.summaryIn(target).toFile(), summary);
            after.accept(model, tok);
            return new Trained(summary, written);
        }
    }

    /** Resolves a job's sources through {@link Storage}: remote ones land verified in the cache, file:// and pvc:// in place. */
    static Inputs fetch(Storage storage, FineTuneJobSpec spec) throws StorageException {
        Path model = storage.fetchDirectory(spec.model.source);
        Path tokenizer = spec.model.tokenizer == null ? model : storage.fetchDirectory(spec.model.tokenizer);
        Path train = storage.fetchFile(spec.dataset.source);
        Path eval = spec.dataset.evalSource == null ? null : storage.fetchFile(spec.dataset.evalSource);
        return new Inputs(model, tokenizer, train, eval);
    }

    /** A file:// destination that is the work directory itself: checkpoints are already there. */
    static boolean isSameDirectory(String destination, Path output) {
        try {
            URI u = URI.create(destination);
            if (!"file".equals(u.getScheme()) || u.getPath() == null) {
                return false;
            }
            return Path.of(u.getPath()).toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize());
        } catch (IllegalArgumentException e) {
            throw new StorageException(StorageException.Reason.INVALID_URI, destination, "not a valid URI", e);
        }
    }
}
