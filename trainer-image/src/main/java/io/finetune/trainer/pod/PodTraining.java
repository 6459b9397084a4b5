package io.finetune.trainer.pod;

import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.MemoryUsage;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.Metrics;
import io.finetune.trainer.run.StagedRun;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageEnvironment;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The training behind {@code pod}: the mounted job is trained with its sources and destination in storage (downloads
 * cached under the scratch volume), each step reported as progress, and the published artifact returned as the result the
 * operator records.
 */
public final class PodTraining implements PodRunner.Training {
    /** The FineTuneJob's metadata.uid, set by the operator on the pod template. */
    public static final String JOB_UID = "FINETUNE_JOB_UID";
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
            return result(job.getSpec().method.type, r);
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

    static TrainerResult result(MethodType type, StagedRun.Result r) {
        Artifact a = new Artifact();
        a.uri = r.artifact().uri();
        a.digest = r.artifact().digest();
        a.sizeBytes = r.artifact().sizeBytes();
        a.format = type.isAdapter() ? "peft-lora" : "hf-full";
        a.servableBy = servableBy(type);
        TrainingSummary s = r.summary();
        Metrics m = new Metrics();
        m.trainLoss = s.trainLoss();
        m.evalLossBefore = s.evalLossBefore();
        m.evalLossAfter = s.evalLossAfter();
        MemoryUsage mem = new MemoryUsage();
        mem.trainableParameters = s.trainableParameters();
        mem.totalParameters = s.totalParameters();
        mem.optimizerStateBytes = s.optimizerStateBytes();
        mem.gradientBytes = s.trainableParameters() * Float.BYTES;   // fp32 gradients of the trainable parameters
        mem.weightBytes = s.totalParameters() * Float.BYTES;         // fp32 weights (the CPU trainer widens bf16/fp16)
        mem.peakRssBytes = peakRssBytes();
        return TrainerResult.succeeded(a, m, mem, s.steps());
    }

    /** DoRA adapters load in PEFT but not in vLLM's LoRA loader; plain LoRA adapters load in both. */
    static List<String> servableBy(MethodType type) {
        return switch (type) {
            case LoRA, LoRAPlus -> List.of("peft", "vllm");
            case DoRA -> List.of("peft");
            default -> List.of("transformers", "vllm");
        };
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
