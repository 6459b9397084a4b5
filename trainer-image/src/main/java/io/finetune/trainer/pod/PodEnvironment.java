package io.finetune.trainer.pod;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.TrainerContract;
import io.finetune.api.TrainerContract.Env;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What the operator hands the trainer pod through its environment ({@link TrainerContract}, docs/contracts.md). Every problem is reported
 * with the variable's name, because a user only sees it in the termination message of a pod they did not write.
 *
 * @param config           FINETUNE_CONFIG: the FineTuneJob manifest mounted from the job's ConfigMap
 * @param jobName          FINETUNE_JOB_NAME: the FineTuneJob whose status.progress this pod patches
 * @param jobNamespace     FINETUNE_JOB_NAMESPACE
 * @param scratch          FINETUNE_SCRATCH: writable emptyDir for downloads, checkpoints and the output directory
 * @param terminationLog   FINETUNE_TERMINATION_LOG, default /dev/termination-log
 * @param pvcRoot          FINETUNE_PVC_ROOT, default /mnt/pvc
 * @param metricsPort      FINETUNE_METRICS_PORT, default 9400 (the container port named "metrics")
 * @param progressInterval FINETUNE_PROGRESS_INTERVAL_SECONDS, default 10: minimum time between two progress patches
 */
public record PodEnvironment(Path config, String jobName, String jobNamespace, Path scratch, Path terminationLog,
                             Path pvcRoot, int metricsPort, Duration progressInterval) {

    public static final String CONFIG = Env.CONFIG;
    public static final String JOB_NAME = Env.JOB_NAME;
    public static final String JOB_NAMESPACE = Env.JOB_NAMESPACE;
    public static final String SCRATCH = Env.SCRATCH;
    public static final String TERMINATION_LOG = Env.TERMINATION_LOG;
    public static final String PVC_ROOT = Env.PVC_ROOT;
    public static final String METRICS_PORT = Env.METRICS_PORT;
    public static final String PROGRESS_INTERVAL = Env.PROGRESS_INTERVAL_SECONDS;
    /** The FineTuneJob's metadata.uid, set by the operator on the pod template. */
    public static final String JOB_UID = Env.JOB_UID;

    public static final Path DEFAULT_TERMINATION_LOG = Path.of(TrainerContract.Paths.TERMINATION_LOG);
    public static final Path DEFAULT_PVC_ROOT = Path.of(TrainerContract.Paths.PVC_ROOT);
    public static final int DEFAULT_METRICS_PORT = TrainerContract.Ports.METRICS;
    public static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(10);

    /**
     * The FineTuneJob's uid: FINETUNE_JOB_UID (set on the pod template, fixed for the pod's life) and the uid in the
     * mounted job must agree, else the pod was started for a job that has since been replaced by one of the same name.
     */
    public static String jobUid(FineTuneJob job, Map<String, String> envVars) {
        String fromEnv = envVars.getOrDefault(JOB_UID, "").strip();
        String fromConfig = job.getMetadata().getUid();
        if (!fromEnv.isEmpty() && fromConfig != null && !fromConfig.isBlank() && !fromEnv.equals(fromConfig)) {
            throw new PodEnvironmentException("the mounted job has metadata.uid " + fromConfig + " but "
                    + JOB_UID + " is " + fromEnv + ": FineTuneJob " + job.getMetadata().getName() + " was deleted and"
                    + " recreated while this pod started; the operator starts a new pod for the new job");
        }
        return fromEnv.isEmpty() ? fromConfig : fromEnv;
    }

    /** Reads the process environment. */
    public static PodEnvironment fromSystem() {
        return fromEnv(System.getenv());
    }

    /** Reads the given environment; throws {@link PodEnvironmentException} naming the first bad variable. */
    public static PodEnvironment fromEnv(Map<String, String> env) {
        return new PodEnvironment(
                path(CONFIG, required(env, CONFIG)),
                required(env, JOB_NAME),
                required(env, JOB_NAMESPACE),
                path(SCRATCH, required(env, SCRATCH)),
                optionalPath(env, TERMINATION_LOG, DEFAULT_TERMINATION_LOG),
                optionalPath(env, PVC_ROOT, DEFAULT_PVC_ROOT),
                port(env),
                interval(env));
    }

    /**
     * Loads and validates the mounted FineTuneJob and checks it is the job this pod was started for: a pod that trained
     * one job while reporting progress on another would mislead its user.
     */
    public FineTuneJob loadJob() {
        if (!Files.isReadable(config)) {
            throw new PodEnvironmentException(CONFIG + "=" + config + ": file does not exist or is not readable"
                    + " (the operator mounts the job's ConfigMap at /etc/finetune)");
        }
        FineTuneJob job;
        try {
            job = FineTuneJobManifest.read(config);
        } catch (IOException e) {
            throw new PodEnvironmentException(CONFIG + "=" + config + ": cannot read: " + e.getMessage());
        }
        String name = job.getMetadata().getName();
        String namespace = job.getMetadata().getNamespace();
        if (!jobName.equals(name)) {
            throw new PodEnvironmentException(config + ": metadata.name is '" + name + "' but " + JOB_NAME + " is '"
                    + jobName + "'");
        }
        if (namespace != null && !jobNamespace.equals(namespace)) {
            throw new PodEnvironmentException(config + ": metadata.namespace is '" + namespace + "' but "
                    + JOB_NAMESPACE + " is '" + jobNamespace + "'");
        }
        return job;
    }

    private static String required(Map<String, String> env, String key) {
        String value = env.get(key);
        if (value == null || value.isBlank()) {
            throw new PodEnvironmentException("environment variable " + key + " is not set; the trainer's pod mode"
                    + " needs " + CONFIG + ", " + JOB_NAME + ", " + JOB_NAMESPACE + " and " + SCRATCH
                    + " (set by the operator)");
        }
        return value.strip();
    }

    private static Path optionalPath(Map<String, String> env, String key, Path fallback) {
        String value = env.get(key);
        return value == null || value.isBlank() ? fallback : path(key, value.strip());
    }

    private static Path path(String key, String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new PodEnvironmentException(key + "=" + value + ": not a valid path: " + e.getReason());
        }
    }

    private static int port(Map<String, String> env) {
        String value = env.get(METRICS_PORT);
        if (value == null || value.isBlank()) {
            return DEFAULT_METRICS_PORT;
        }
        try {
            int port = Integer.parseInt(value.strip());
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PodEnvironmentException(METRICS_PORT + "=" + value + ": expected a port number 0-65535");
    }

    private static Duration interval(Map<String, String> env) {
        String value = env.get(PROGRESS_INTERVAL);
        if (value == null || value.isBlank()) {
            return DEFAULT_PROGRESS_INTERVAL;
        }
        try {
            double seconds = Double.parseDouble(value.strip());
            if (seconds >= 0 && seconds <= 3600) {
                return Duration.ofMillis(Math.round(seconds * 1000));
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PodEnvironmentException(PROGRESS_INTERVAL + "=" + value + ": expected seconds between 0 and 3600");
    }

    /** The pod's environment or mounted configuration is unusable; the message names the variable or file. */
    public static final class PodEnvironmentException extends IllegalStateException {
        public PodEnvironmentException(String message) {
            super(message);
        }
    }
}
