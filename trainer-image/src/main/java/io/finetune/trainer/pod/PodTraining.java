package io.finetune.trainer.pod;

import io.finetune.api.Serving;
import io.finetune.api.TrainerContract;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Metrics;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageEnvironment;
import io.finetune.trainer.train.EvaluationGate;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
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
            TrainingRun.Result r = TrainingRun.run(job, storage, output, System.out, new ProgressHooks(progress),
                    new TrainingRun.Options(uid, false, false), TrainingRun.AfterTraining.NONE);
            return result(r);
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

    /**
     * The result the operator records: status.memory is the summary's measured figures (the same numbers as
     * training_summary.json), status.artifact the published artifact with what the method wrote (format, servers).
     */
    static TrainerResult result(TrainingRun.Result r) {
        TrainingSummary s = r.summary();
        if (s.gate() != null && !s.gate().passed()) {
            String rejected = r.artifact().uri().replaceAll("/+$", "") + "/" + EvaluationGate.REJECTED_DIR + "/";
            return TrainerResult.gateFailed(s.gate().message() + "; the output is not published as servable: it is kept for "
                    + "inspection under " + rejected, metrics(s), s.memory(), s.steps());
        }
        Artifact a = new Artifact();
        a.uri = r.artifact().uri();
        a.digest = r.artifact().digest();
        a.sizeBytes = r.artifact().sizeBytes();
        a.format = r.output().format().wireName();
        Serving.Verdict serving = r.output().serving();
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
