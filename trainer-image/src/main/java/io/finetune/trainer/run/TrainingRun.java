package io.finetune.trainer.run;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.Batcher;
import io.finetune.trainer.data.DatasetLoader;
import io.finetune.trainer.data.LoadedDataset;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.distributed.ProcessGroup;
import io.finetune.trainer.distributed.RunEnd;
import io.finetune.trainer.distributed.ProcessGroups;
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
import io.finetune.trainer.process.RankDevice;
import io.finetune.trainer.spec.QuantizationSettings;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.Sources;
import io.finetune.trainer.spec.TrainingSettings;
import io.finetune.trainer.storage.Manifest;
import io.finetune.trainer.storage.PublishedArtifact;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.storage.StorageUri;
import io.finetune.trainer.data.BatchSource;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.train.EvaluationGate;
import io.finetune.trainer.train.StopRequest;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

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
     * @param forceNew       move a local output directory holding another run's files aside instead of refusing
     * @param forceNewOffered whether the refusal may suggest --force-new (the CLI has it, the pod does not)
     */
    public record Options(boolean forceNew, boolean forceNewOffered) {
        /** The CLI without --force-new. */
        public static final Options DEFAULT = new Options(false, true);
        /** The pod: a remote destination is never moved aside. */
        public static final Options POD = new Options(false, false);
    }

    /** Local paths of a job's sources (model dir, tokenizer dir, train file, optional eval file), whatever their URIs were. */
    public record Inputs(Path modelDir, Path tokenizerDir, Path trainFile, Path evalFile) {
    }

    /**
     * What the run produced: the training summary (as written to {@value RunLayout#SUMMARY}), what the method wrote, and the artifact
     * as published (digest = sha256 of its manifest); output and artifact are null on ranks other than 0.
     */
    public record Result(TrainingSummary summary, MethodOutput output, PublishedArtifact artifact) {
    }

    /** Called with the trained model before it is closed (the quick start decodes samples with it). */
    @FunctionalInterface
    public interface AfterTraining {
        AfterTraining NONE = (model, tokenizer) -> { };

        void accept(LlamaModel model, TextTokenizer tokenizer) throws IOException;
    }

    private final RunSpec spec;
    private final Storage storage;
    private final Path output;
    private final Options options;
    private final TrainingHooks extra;
    private final StopRequest stop;
    private final ProcessGroup group;
    private final PrintStream log;

    /**
     * @param storage where sources come from and the output goes
     * @param output  local work directory for the output (may be the destination itself for a file:// destination)
     * @param extra   hooks of the caller (progress); checkpoint publishing is added here
     * @param stop    the stop request the trainer reads between steps (SIGTERM's in a real run)
     * @param group   the data-parallel ranks (a {@link io.finetune.trainer.distributed.SingleProcessGroup} for one process):
     *                rank 0 claims the output, writes checkpoints and the artifact and publishes; every rank trains its
     *                share of each global batch of {@code batchSize x worldSize} rows, in the same {@code output}
     */
    public TrainingRun(RunSpec spec, Storage storage, Path output, Options options, TrainingHooks extra, StopRequest stop,
                       ProcessGroup group, PrintStream log) {
        this.spec = spec;
        this.storage = storage;
        this.output = output;
        this.options = options;
        this.extra = extra;
        this.stop = stop;
        this.group = group;
        this.log = log;
    }

    /** The work directory when the CLI names none: a file:// destination itself, else out/<job name>. */
    public static Path defaultOutput(RunSpec spec) {
        String dest = spec.output().destination();
        return dest.startsWith("file:") ? StorageUri.localFile(dest) : Path.of("out", spec.job().name());
    }

    /** A run on this machine ({@code run}, {@code quickstart}): storage from this process's environment, downloads cached per user. */
    public static Result local(RunSpec spec, Path output, PrintStream log, Options options, AfterTraining after)
            throws IOException {
        String cache = System.getenv(CACHE_DIR);
        Path cacheDir = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "finetune-trainer");
        try (Storage storage = Storage.fromEnvironment(cacheDir);
             ProcessGroup group = ProcessGroups.fromEnvironment(System.getenv(), spec.collectiveTimeout(),
                     RankDevice.of(System.getenv()))) {
            return new TrainingRun(spec, storage, output, options, TrainingHooks.NONE, StopRequest.process(), group, log)
                    .run(after);
        }
    }

    /**
     * Fetch, claim, train, write and publish; {@code after} sees the trained model before it is closed. On a rank other
     * than 0 only fetch and train happen, and the result has no output or artifact (rank 0's is the run's).
     */
    public Result run(AfterTraining after) throws IOException {
        String destination = spec.output().destination();
        boolean inPlace = isSameDirectory(destination, output);
        boolean rankZero = group.rank() == 0;
        Inputs inputs = null;
        RunIdentity identity = null;
        OutputClaim claim = null;
        if (rankZero) {
            OutputSafety.check(spec, output, storage::localPath);   // before anything is fetched or loaded
            inputs = fetch(storage, spec.sources());
            identity = RunIdentity.of(spec, inputs, group.worldSize());
            claim = OutputClaim.take(storage, destination, output, inPlace, identity, options, log);
        }
        // The other ranks fetch once rank 0 has (a shared download cache is then warm) and read the checkpoint it restored.
        group.barrier();
        if (!rankZero) {
            OutputSafety.check(spec, output, storage::localPath);
            inputs = fetch(storage, spec.sources());
        }
        if (group.worldSize() > 1) {
            RankCheckpoint.agree(group, storage, destination, output, log);   // pods of a gang share no work directory
        }
        int keepCheckpoints = spec.training().keepCheckpoints();
        TrainingHooks hooks = rankZero ? publishingCheckpoints(extra, identity, storage, destination, output, inPlace,
                keepCheckpoints, log) : extra;
        Trained trained;
        try {
            trained = train(inputs, hooks, after);
        } catch (Throwable t) {
            if (claim != null) {
                claim.afterFailure(log);   // what holds nothing to protect is left as it was found
            }
            throw t;
        }
        if (!rankZero) {
            RunEnd.peer(group);   // exit 0 only once rank 0 has published: a gang's pods succeed together or not at all
            return new Result(trained.summary(), null, null);
        }
        RunIdentity ours = identity;
        PublishedArtifact artifact = RunEnd.rankZero(group, RunEnd.HEARTBEAT, () -> {
            ours.write(output);   // the output now holds an artifact: it is this run's
            return storage.publish(output, destination);
        });
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
    private Trained train(Inputs inputs, TrainingHooks hooks, AfterTraining after) throws IOException {
        Path modelDir = inputs.modelDir();
        Path tokDir = inputs.tokenizerDir();
        TrainingSettings training = spec.training();
        long seed = training.seed();
        PlanCheck.beforeTraining(spec, modelDir); // on a GPU: fail fast when the memory plan cannot fit
        // before any weight loads: fp16 on the CPU, or bf16 on a pre-Ampere GPU, fails here with the field's name
        Device device = RankDevice.of(System.getenv());
        Precision requested = spec.quantization().map(q -> q.precision(training.precision())).orElse(training.precision());
        ComputePrecision precision = PrecisionResolver.resolve(requested, PrecisionResolver.DeviceCapabilities.of(device));
        try (TextTokenizer tok = TextTokenizer.load(tokDir);
             LlamaModel model = spec.quantization().isPresent()
                     ? LlamaModel.load(modelDir, NDManager.newBaseManager(device), spec.quantization().get().quantizer())
                     : LlamaModel.load(modelDir, NDManager.newBaseManager(device))) {
            if (spec.quantization().isPresent()) {
                QuantizationSettings q = spec.quantization().get();
                long values = model.linears().stream().filter(l -> l.quantizedWeight() != null)
                        .mapToLong(l -> l.quantizedWeight().numel()).sum();
                log.printf(Locale.ROOT, "quantization: %s%s, decoder linear weights: %,d values in %,d bytes (%.4f bytes/value)%n",
                        q.type(), q.doubleQuant() ? " + double-quantized constants" : "", values, model.quantizedBytes(),
                        (double) model.quantizedBytes() / Math.max(1, values));
            }
            if (tok.vocabSize() > model.config().vocabSize()) {
                throw new ModelException(tokDir + ": tokenizer has " + tok.vocabSize() + " tokens but " + modelDir
                        + "/config.json has vocab_size " + model.config().vocabSize());
            }
            LoadedDataset data = DatasetLoader.load(spec.data(), inputs.trainFile(), inputs.evalFile(), tok, seed);
            log.printf("data: %s%n", data.stats());

            TrainingMethod method = TrainingMethods.create(spec.method());
            method.attach(model, seed);
            model.usePrecision(precision);
            log.printf("precision: %s (spec.training.precision %s) on %s%n", precision, training.precision(),
                    model.manager().getDevice());

            int maxLen = spec.data().maxSeqLength();
            // Global batches of batchSize rows per rank, in one order for all ranks; each trains its own rows of each.
            Batcher batcher = new Batcher(data.train(), training.batchSize() * group.worldSize(), maxLen,
                    spec.data().packing(), tok.padId());
            List<Batch> eval = Batcher.sequential(data.eval(), training.batchSize(), maxLen, tok.padId());
            Trainer trainer = new Trainer(model, method, training, spec.evaluation(),
                    new TrainingData(batcher, eval, data.stats()), output, log, hooks, stop, group);
            long trainable = method.trainableParameters(model).stream().mapToLong(p -> p.numel()).sum();
            log.printf("%s: %s on %s, %,d trainable of %,d parameters (%.2f%%), %d steps%n", spec.job().name(),
                    method.type(), modelDir, trainable, model.totalParameters(), 100.0 * trainable / model.totalParameters(),
                    trainer.totalSteps());
            TrainingSummary summary = trainer.run();
            // No rank leaves (and closes its connections) while another is still in a collective; then rank 0 writes.
            group.barrier();
            if (group.rank() != 0) {
                return new Trained(summary, null);   // rank 0 writes the output
            }
            if (summary.gate() != null) {
                log.printf("%s%n", summary.gate().message());
            }

            // A rejected run's weights go under rejected/: kept for inspection, never where a server would load them.
            Path target = summary.gate() == null || summary.gate().passed() ? output
                    : RunLayout.of(output).rejected();
            Files.createDirectories(target);
            MethodOutput written = method.saveOutput(model, new OutputTarget(target, modelDir, tokDir, spec.sources().model(),
                    spec.output().merge()));
            JSON.writeValue(RunLayout.summaryIn(target).toFile(), summary);
            after.accept(model, tok);
            return new Trained(summary, written);
        }
    }

    /** Resolves a job's sources through {@link Storage}: remote ones land verified in the cache, file:// and pvc:// in place. */
    static Inputs fetch(Storage storage, Sources sources) throws StorageException {
        Path model = storage.fetchDirectory(sources.model());
        Path tokenizer = sources.tokenizer() == null ? model : storage.fetchDirectory(sources.tokenizer());
        Path train = storage.fetchFile(sources.dataset());
        Path eval = sources.evalDataset() == null ? null : storage.fetchFile(sources.evalDataset());
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
