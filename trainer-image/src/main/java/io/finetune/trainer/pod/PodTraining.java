package io.finetune.trainer.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.ArtifactFormat;
import io.finetune.api.Serving;
import io.finetune.api.TrainerContract;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.MemoryUsage;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.Metrics;
import io.finetune.trainer.method.PeftAdapterWriter;
import io.finetune.trainer.run.StagedRun;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageEnvironment;
import io.finetune.trainer.train.EvaluationGate;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The training behind {@code pod}: the mounted job is trained with its sources and destination in storage (downloads
 * cached under the scratch volume), each step reported as progress, and the published artifact returned as the result the
 * operator records.
 */
public final class PodTraining implements PodRunner.Training {
    /** The FineTuneJob's metadata.uid, set by the operator on the pod template. */
    public static final String JOB_UID = TrainerContract.Env.JOB_UID;
    private final Map<String, String> envVars;

    public PodTraining(Map<String, String> envVars) {
        this.envVars = envVars;
    }

    /** {@code java -jar finetune-trainer.jar pod}: the process exit code. */
    public static int command() {
        Map<String, String> env = System.getenv();
        return PodRunner.run(env, new PodTraining(env), new FailureClassifier());
    }

    @Override
    public TrainerResult train(FineTuneJob job, PodEnvironment env, ProgressSink progress) throws Exception {
        Path output = env.scratch().resolve("output");
        String uid = jobUid(job, envVars);
        try (Storage storage = Storage.create(env.scratch().resolve("cache"), StorageEnvironment.fromEnv(envVars))) {
            StagedRun.Result r = StagedRun.run(job, storage, output, System.out, new ProgressHooks(progress),
                    new StagedRun.Options(uid, false, false));
            return result(job.getSpec().method.type, r, output);
        }
    }

    /**
     * The FineTuneJob's uid: FINETUNE_JOB_UID (set on the pod template, fixed for the pod's life) and the uid in the
     * mounted job must agree, else the pod was started for a job that has since been replaced by one of the same name.
     */
    static String jobUid(FineTuneJob job, Map<String, String> envVars) {
        String fromEnv = envVars.getOrDefault(JOB_UID, "").strip();
        String fromConfig = job.getMetadata().getUid();
        if (!fromEnv.isEmpty() && fromConfig != null && !fromConfig.isBlank() && !fromEnv.equals(fromConfig)) {
            throw new PodEnvironment.PodEnvironmentException("the mounted job has metadata.uid " + fromConfig + " but "
                    + JOB_UID + " is " + fromEnv + ": FineTuneJob " + job.getMetadata().getName() + " was deleted and"
                    + " recreated while this pod started; the operator starts a new pod for the new job");
        }
        return fromEnv.isEmpty() ? fromConfig : fromEnv;
    }

    static TrainerResult result(MethodType type, StagedRun.Result r, Path output) throws IOException {
        TrainingSummary s = r.summary();
        if (s.gate() != null && !s.gate().passed()) {
            String rejected = r.artifact().uri().replaceAll("/+$", "") + "/" + EvaluationGate.REJECTED_DIR + "/";
            return TrainerResult.gateFailed(s.gate().message() + "; the output is not published as servable: it is kept for "
                    + "inspection under " + rejected, metrics(s), memory(s), s.steps());
        }
        Artifact a = new Artifact();
        a.uri = r.artifact().uri();
        a.digest = r.artifact().digest();
        a.sizeBytes = r.artifact().sizeBytes();
        a.format = ArtifactFormat.of(type).wireName();
        Serving.Verdict serving = servingOf(type, output);
        a.servableBy = serving.servableBy();
        a.servingNote = serving.vllmProblem() == null ? serving.note()
                : serving.vllmProblem() + (serving.note() == null ? "" : "; " + serving.note());
        return TrainerResult.succeeded(a, metrics(s), memory(s), s.steps());
    }

    private static Metrics metrics(TrainingSummary s) {
        Metrics m = new Metrics();
        m.trainLoss = s.trainLoss();
        m.evalLossBefore = s.evalLossBefore();
        m.evalLossAfter = s.evalLossAfter();
        m.bestStep = s.bestStep();
        return m;
    }

    private static MemoryUsage memory(TrainingSummary s) {
        MemoryUsage mem = new MemoryUsage();
        mem.trainableParameters = s.trainableParameters();
        mem.totalParameters = s.totalParameters();
        mem.optimizerStateBytes = s.optimizerStateBytes();
        mem.gradientBytes = s.trainableParameters() * Float.BYTES;   // fp32 gradients of the trainable parameters
        mem.weightBytes = s.totalParameters() * Float.BYTES;         // fp32 weights (the CPU trainer widens bf16/fp16)
        mem.peakRssBytes = peakRssBytes();
        return mem;
    }

    /** Judged from the adapter_config.json as written (r, use_dora, modules_to_save), not from the spec. */
    static Serving.Verdict servingOf(MethodType type, Path output) throws IOException {
        if (!type.isAdapter()) {
            return Serving.fullWeights();
        }
        JsonNode c = new ObjectMapper().readTree(output.resolve(PeftAdapterWriter.CONFIG).toFile());
        JsonNode save = c.path("modules_to_save");
        return Serving.adapter(new Serving.AdapterFacts(c.path("r").asInt(), c.path("use_dora").asBoolean(false),
                save.isArray() && !save.isEmpty(), Files.isDirectory(output.resolve("merged"))));
    }

    /** VmHWM of /proc/self/status (Linux); null where it is not available. */
    static Long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException | UnsupportedOperationException e) {
            return null;
        }
        return null;
    }

    /** Steps of the training loop -> windowed progress (ProgressTracker) -> the sink (status patch + gauges). */
    static final class ProgressHooks implements TrainingHooks {
        private final ProgressSink sink;
        private ProgressTracker tracker;

        ProgressHooks(ProgressSink sink) {
            this.sink = sink;
        }

        @Override
        public void started(int startStep, int totalSteps, double stepsPerEpoch) {
            tracker = new ProgressTracker(sink, totalSteps, stepsPerEpoch, startStep);
        }

        @Override
        public void stepDone(int done, double loss, double learningRate, long tokens) {
            if (tracker != null) {
                tracker.onStep(done, loss, learningRate, tokens);
            }
        }
    }
}
