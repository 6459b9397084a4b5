package io.finetune.trainer.pod;

import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.process.RankDevice;
import io.finetune.trainer.distributed.LaunchEnvironment;
import io.finetune.trainer.distributed.ProcessGroup;
import io.finetune.trainer.distributed.ProcessGroups;
import io.finetune.trainer.failure.Failure;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageEnvironment;
import io.finetune.trainer.train.StopRequest;
import io.finetune.trainer.train.TrainingStoppedException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's pod mode: redacted output, the mounted job, progress to the API server and to /metrics, and exactly one
 * termination message whatever happens (bad environment, bad job, exception, OOM), around the training itself
 * ({@link #inStorage}: {@link TrainingRun} -> {@code train.Trainer}). The hops of one pod: {@code cli.PodCommand} ->
 * {@link #command()} -> {@link #run} -> {@link #trainInStorage} -> {@link TrainingRun#run} -> {@code Trainer.run}.
 */
public final class PodRunner {
    private static final Logger LOG = LoggerFactory.getLogger(PodRunner.class);

    /** The training run. Returns the succeeded result; any failure is thrown. */
    @FunctionalInterface
    public interface Training {
        TrainerResult train(FineTuneJob job, PodEnvironment env, ProgressSink progress) throws Exception;
    }

    /** How the pieces that talk to the outside are made; tests replace them. */
    public record Wiring(Function<PodEnvironment, StatusPatcher> patcher,
                         Function<PodEnvironment, InetSocketAddress> metricsAddress) {
        public static Wiring inCluster() {
            return new Wiring(env -> KubernetesStatusPatcher.autoConfigured(env.jobNamespace(), env.jobName()),
                    env -> new InetSocketAddress("0.0.0.0", env.metricsPort()));
        }
    }

    private PodRunner() {
    }

    /**
     * {@code java -jar finetune-trainer.jar pod}: the mounted job trained in storage, in the real pod's environment.
     *
     * @return the process exit code
     */
    public static int command() {
        Map<String, String> env = System.getenv();
        return run(env, inStorage(env), Failure::reasonOf);
    }

    /** The pod's training: {@link #trainInStorage} with the job's uid and storage credentials from {@code envVars}. */
    public static Training inStorage(Map<String, String> envVars) {
        return (job, env, progress) -> trainInStorage(job, env, progress, envVars);
    }

    /**
     * The mounted job trained with its sources and destination in storage (downloads cached under the scratch volume),
     * each step reported as progress: {@link TrainingRun#run}, whose published artifact becomes the result the operator
     * records.
     */
    static TrainerResult trainInStorage(FineTuneJob job, PodEnvironment env, ProgressSink progress,
                                        Map<String, String> envVars) throws Exception {
        Path output = env.scratch().resolve("output");
        RunSpec spec = RunSpecReader.read(job, PodEnvironment.jobUid(job, envVars));
        try (Storage storage = Storage.create(env.scratch().resolve("cache"), StorageEnvironment.fromEnv(envVars));
             ProcessGroup group = ProcessGroups.fromEnvironment(envVars, spec.collectiveTimeout(), RankDevice.of(envVars))) {
            TrainingRun run = new TrainingRun(spec, storage, output, TrainingRun.Options.POD, ProgressTracker.hooks(progress),
                    StopRequest.process(), group, System.out);
            TrainingRun.Result result = run.run(TrainingRun.AfterTraining.NONE);
            return group.rank() == 0 ? RunResults.toTrainerResult(result) : RunResults.peerRank(result);
        }
    }

    /** Pod mode in a real pod: {@code System.exit(PodRunner.run(System.getenv(), training, classifier))}. */
    public static int run(Map<String, String> envVars, Training training, Function<Throwable, TrainerResult.Reason> classify) {
        SecretRedactor redactor = SecretRedactor.fromEnv(envVars);
        RedactingOutputStream.installOnStandardStreams(redactor);
        return run(envVars, training, classify, redactor, Wiring.inCluster());
    }

    /**
     * Runs the training and writes its result. {@code classify} maps a failure to its reason (the trainer knows its
     * dataset/storage/model exception types; production passes {@link Failure#reasonOf}); what it leaves as TrainerError
     * is classified by {@link Failure#reasonOf} (out of memory, among others).
     *
     * @return the process exit code: 0 when the result is Succeeded, {@link TrainerResult#PREEMPTED_EXIT_CODE} when it
     *         stopped on SIGTERM with a checkpoint, 1 otherwise
     */
    public static int run(Map<String, String> envVars, Training training, Function<Throwable, TrainerResult.Reason> classify,
                          SecretRedactor redactor, Wiring wiring) {
        String logPath = envVars.getOrDefault(PodEnvironment.TERMINATION_LOG, "");
        TerminationLog termination = new TerminationLog(
                logPath.isBlank() ? PodEnvironment.DEFAULT_TERMINATION_LOG : Path.of(logPath.strip()), redactor);
        PodEnvironment env;
        FineTuneJob job;
        int rank;
        try {
            env = PodEnvironment.fromEnv(envVars);
            // One pod, one termination message and one status writer: with several ranks in the pod (cli/Launch) only rank
            // 0 writes them; another rank keeps its own message beside the scratch volume's output for its logs.
            rank = LaunchEnvironment.parse(envVars).rank();
            termination = new TerminationLog(rank == 0 ? env.terminationLog()
                    : env.scratch().resolve("termination-rank-" + rank + ".json"), redactor);
            job = env.loadJob();
        } catch (RuntimeException e) {
            // Bad environment or job: the operator validated the spec, so this is the pod's wiring, not the user's data.
            return finish(termination, termination.failure(TrainerResult.Reason.TrainerError, e));
        }

        TrainerGauges gauges = new TrainerGauges();
        MetricsServer metrics = null;
        ProgressSink progress = gauges;
        TrainerResult result;
        try {
            try {
                metrics = rank == 0 ? MetricsServer.start(wiring.metricsAddress().apply(env), gauges) : null;
            } catch (RuntimeException e) {
                LOG.warn("metrics disabled: {}", e.getMessage());   // scraping is optional; training is not
            }
            progress = rank == 0 ? ProgressSink.fanOut(gauges, reporter(env, wiring)) : gauges;
            LOG.info("training FineTuneJob {}/{} (progress at most every {} ms, metrics on port {})", env.jobNamespace(),
                    env.jobName(), env.progressInterval().toMillis(), metrics == null ? "-" : metrics.port());
            result = training.train(job, env, progress);
            if (result == null || result.outcome() == null) {
                result = TrainerResult.failed(TrainerResult.Reason.TrainerError, "trainer finished without a result");
            }
        } catch (TrainingStoppedException e) {
            // SIGTERM (pod deleted, evicted, preempted, Job suspended): the checkpoint is published; the next pod resumes.
            LOG.info("{}", e.getMessage());
            result = TrainerResult.preempted(e.step(), e.getMessage());
        } catch (Throwable e) {   // OutOfMemoryError included: the result must still be written
            LOG.error("training failed", e);
            result = termination.failure(reasonOf(e, classify), e);
        } finally {
            progress.close();   // sends the final progress (bounded wait)
            if (metrics != null) {
                metrics.close();
            }
        }
        return finish(termination, result);
    }

    /** Progress reporting is a courtesy: a client that cannot even be configured must not stop the training. */
    private static ProgressSink reporter(PodEnvironment env, Wiring wiring) {
        try {
            return new ProgressReporter(wiring.patcher().apply(env), ProgressReporter.Settings.of(env.progressInterval()));
        } catch (RuntimeException e) {
            LOG.warn("progress reporting disabled: cannot create a Kubernetes client: {}", e.getMessage());
            return ProgressSink.none();
        }
    }

    private static int finish(TerminationLog termination, TrainerResult result) {
        String json = termination.write(result);
        LOG.info("result: {}", json);
        if (result.outcome() == TrainerResult.Outcome.Succeeded) {
            return 0;
        }
        if (result.reason() == TrainerResult.Reason.Preempted) {
            return TrainerResult.PREEMPTED_EXIT_CODE;
        }
        // A missed evaluation gate is a verdict on a finished run: a retry would train the same steps to the same verdict,
        // so the pod exits 0 (the Job completes) and the operator reads the verdict from the termination message.
        return result.reason() == TrainerResult.Reason.EvaluationGateFailed ? 0 : 1;
    }

    static TrainerResult.Reason reasonOf(Throwable e, Function<Throwable, TrainerResult.Reason> classify) {
        TrainerResult.Reason reason;
        try {
            reason = classify.apply(e);
        } catch (RuntimeException classifierBug) {
            reason = null;
        }
        if (reason != null && reason != TrainerResult.Reason.TrainerError) {
            return reason;
        }
        return Failure.reasonOf(e);   // the shared taxonomy decides what the caller's classifier left open
    }
}
