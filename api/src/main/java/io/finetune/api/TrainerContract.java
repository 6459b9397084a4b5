package io.finetune.api;

import java.util.List;

/**
 * The operator&lt;-&gt;trainer contract as names both sides compile against (docs/contracts.md explains each): the operator
 * builds the pod from these constants and the trainer reads them back, so renaming one side without the other is a
 * compile error, not a pod that cannot find its config. What travels back is {@link TrainerResult} (training pod) and
 * {@link PreflightResult} (preflight pod) as the termination message, and the artifact formats are {@link ArtifactFormat}.
 */
public final class TrainerContract {
    private TrainerContract() {
    }

    /** Environment variables the operator sets on the trainer container (docs/contracts.md, "Environment"). */
    public static final class Env {
        /** Path of the mounted FineTuneJob manifest ({@link Paths#CONFIG_FILE}). */
        public static final String CONFIG = "FINETUNE_CONFIG";
        /** The FineTuneJob whose status.progress the pod patches. */
        public static final String JOB_NAME = "FINETUNE_JOB_NAME";
        public static final String JOB_NAMESPACE = "FINETUNE_JOB_NAMESPACE";
        /** The FineTuneJob's uid: recorded with each checkpoint, a predecessor's checkpoint is refused. */
        public static final String JOB_UID = "FINETUNE_JOB_UID";
        /** Writable emptyDir for downloads, checkpoints and the output directory. */
        public static final String SCRATCH = "FINETUNE_SCRATCH";
        /** Where the termination message ({@link TrainerResult} / {@link PreflightResult} JSON) is written. */
        public static final String TERMINATION_LOG = "FINETUNE_TERMINATION_LOG";
        /** Root under which each pvc:// claim is mounted as {@code <root>/<claim>}. */
        public static final String PVC_ROOT = "FINETUNE_PVC_ROOT";
        /** Port of the trainer's Prometheus endpoint (default {@link Ports#METRICS}). */
        public static final String METRICS_PORT = "FINETUNE_METRICS_PORT";
        /** Minimum seconds between two status.progress patches. */
        public static final String PROGRESS_INTERVAL_SECONDS = "FINETUNE_PROGRESS_INTERVAL_SECONDS";
        /** Preflight pod only: the GPU size to plan for, in bytes. */
        public static final String GPU_MEMORY_BYTES = "FINETUNE_GPU_MEMORY_BYTES";
        /** Preflight pod only, instead of {@link #GPU_MEMORY_BYTES}: why the GPU size is unknown. */
        public static final String GPU_MEMORY_NOTE = "FINETUNE_GPU_MEMORY_NOTE";
        /**
         * Trainer processes in the pod, one per GPU ({@code LOCAL_RANK} = device): the pod command launches that many ranks
         * when it is above 1. Kubeflow Trainer's {@code PET_NPROC_PER_NODE} means the same and wins when both are set
         * (they must agree). Unset: one process.
         */
        public static final String NPROC = "FINETUNE_NPROC";
        /**
         * Gang pods only (spec.resources.nodes above 1): the downward-API file of the pod's annotations
         * ({@link Paths#PODINFO_ANNOTATIONS}), where the operator's {@link Gang#RANK} and {@link Gang#MASTER_ADDR} appear
         * once every pod of the attempt has started. The pod command waits for them (at most the collective timeout) and
         * launches as node {@code PET_NODE_RANK} of {@code PET_NNODES}.
         */
        public static final String PODINFO = "FINETUNE_PODINFO";
        /** Gang pods: the number of pods (Kubeflow Trainer's and torchrun's {@code --nnodes}). */
        public static final String PET_NNODES = "PET_NNODES";
        /** Gang pods: rank 0's rendezvous port, {@link Ports#RENDEZVOUS}. */
        public static final String PET_MASTER_PORT = "PET_MASTER_PORT";
        /** Set by the pod command from {@link Gang#RANK} before it launches (never by the operator). */
        public static final String PET_NODE_RANK = "PET_NODE_RANK";
        /** Set by the pod command from {@link Gang#MASTER_ADDR} before it launches (never by the operator). */
        public static final String PET_MASTER_ADDR = "PET_MASTER_ADDR";
        /** libtorch's thread count: the container's CPU limit rounded up (shared by the pod's processes). */
        public static final String OMP_NUM_THREADS = "OMP_NUM_THREADS";
        public static final String HOME = "HOME";
        public static final String DJL_CACHE_DIR = "DJL_CACHE_DIR";

        private Env() {
        }
    }

    /** Mount points and files inside the trainer container (docs/contracts.md, "Mounts"). */
    public static final class Paths {
        /** The job's ConfigMap, read-only. */
        public static final String CONFIG_DIR = "/etc/finetune";
        /** {@link #CONFIG_DIR}/{@link #CONFIG_KEY}: the value of {@link Env#CONFIG}. */
        public static final String CONFIG_FILE = Paths.CONFIG_DIR + "/" + Paths.CONFIG_KEY;
        /** The ConfigMap key holding the FineTuneJob (apiVersion, kind, name, namespace, uid, spec). */
        public static final String CONFIG_KEY = "job.yaml";
        /** emptyDir, also HOME. */
        public static final String SCRATCH = "/scratch";
        /** DJL's native-library and model cache, under scratch. */
        public static final String DJL_CACHE = SCRATCH + "/djl";
        /** Root of the pvc:// mounts. */
        public static final String PVC_ROOT = "/mnt/pvc";
        /** The Kubernetes default terminationMessagePath. */
        public static final String TERMINATION_LOG = "/dev/termination-log";
        /** emptyDir: the root filesystem is read-only, the JVM and native libraries still need a writable /tmp. */
        public static final String TMP = "/tmp";
        /** Downward-API volume of a gang pod. */
        public static final String PODINFO_DIR = "/etc/podinfo";
        /** The pod's annotations as the kubelet writes them ({@code key="value"} lines, updated live). */
        public static final String PODINFO_ANNOTATIONS = PODINFO_DIR + "/annotations";
        /** The trainer jar in the image. */
        public static final String TRAINER_JAR = "/opt/finetune/finetune-trainer.jar";

        private Paths() {
        }
    }

    /**
     * Pod annotations with which the operator assigns a gang's ranks (spec.resources.nodes above 1). A 1.20 API server has
     * no Indexed Jobs, so the pods of the one gang Job have random names: once all of an attempt's pods have started, the
     * operator sorts them by name and writes each its node rank, rank 0's pod IP and the attempt number; the trainer reads
     * them from {@link Paths#PODINFO_ANNOTATIONS}.
     */
    public static final class Gang {
        /** This pod's node rank, 0 to nodes - 1 ({@code PET_NODE_RANK}). */
        public static final String RANK = "finetune.io/rank";
        /** Rank 0's pod IP ({@code PET_MASTER_ADDR}). */
        public static final String MASTER_ADDR = "finetune.io/master-addr";
        /** The gang attempt the rank belongs to (1, 2, ...): pods of an older attempt are never mixed with a newer one. */
        public static final String ATTEMPT = "finetune.io/gang-attempt";

        private Gang() {
        }
    }

    /** Container ports. */
    public static final class Ports {
        /** The trainer's Prometheus endpoint (container port named {@link #METRICS_NAME}). */
        public static final int METRICS = 9400;
        public static final String METRICS_NAME = "metrics";
        /** Rank 0's rendezvous port in a gang ({@code PET_MASTER_PORT}, torchrun's default), container port {@link #RENDEZVOUS_NAME}. */
        public static final int RENDEZVOUS = 29500;
        public static final String RENDEZVOUS_NAME = "rendezvous";

        private Ports() {
        }
    }

    /**
     * Credential variables per storage family (docs/contracts.md, "Credentials"): the operator maps each key of the
     * family's Secret to the variable of the same name (secretKeyRef, optional), the trainer reads them.
     */
    public enum Credentials {
        S3("s3://", List.of(Credentials.AWS_ACCESS_KEY_ID, Credentials.AWS_SECRET_ACCESS_KEY, Credentials.AWS_SESSION_TOKEN,
                Credentials.AWS_REGION, Credentials.AWS_ENDPOINT_URL, Credentials.S3_FORCE_PATH_STYLE)),
        HF("hf://", List.of(Credentials.HF_TOKEN, Credentials.HF_ENDPOINT));

        public static final String AWS_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";
        public static final String AWS_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";
        public static final String AWS_SESSION_TOKEN = "AWS_SESSION_TOKEN";
        public static final String AWS_REGION = "AWS_REGION";
        public static final String AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL";
        public static final String S3_FORCE_PATH_STYLE = "S3_FORCE_PATH_STYLE";
        public static final String HF_TOKEN = "HF_TOKEN";
        public static final String HF_ENDPOINT = "HF_ENDPOINT";
        /** The values never printed by the trainer (endpoints, region and path style are not secret). */
        public static final List<String> SECRET_VALUES = List.of(AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ACCESS_KEY_ID,
                HF_TOKEN);

        private final String scheme;
        private final List<String> variables;

        Credentials(String scheme, List<String> variables) {
            this.scheme = scheme;
            this.variables = variables;
        }

        /** The URI scheme prefix of the family (s3://, hf://). */
        public String scheme() {
            return scheme;
        }

        /** The variables (= Secret keys) the family reads. */
        public List<String> variables() {
            return variables;
        }
    }
}
