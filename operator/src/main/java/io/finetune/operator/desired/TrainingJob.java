package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicy;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyBuilder;
import io.finetune.api.TrainerContract;
import io.finetune.api.TrainerContract.Env;
import io.finetune.api.TrainerContract.Paths;
import io.finetune.api.TrainerContract.Ports;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.ResourcesSpec;
import io.finetune.operator.naming.Names;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.operator.desired.StorageLocations.Location;
import io.finetune.operator.observe.GangFacts;
import io.finetune.operator.observe.SpecChange;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The batch/v1 Job that runs the trainer (docs/contracts.md, {@link TrainerContract}). Created once and never updated (a Job's pod template is
 * immutable); only its hold is patched later ({@link JobHold}: spec.suspend, parallelism). With a queue it is created
 * held: Kueue admits it. The pod passes the Pod Security "restricted" profile.
 */
public final class TrainingJob {
    /**
     * SIGTERM-to-SIGKILL time when spec.training.checkpointGracePeriodSeconds is unset: one optimizer step plus writing the
     * trainable weights and two Adam moments (a full 7B fine-tune is ~84 GB: ~85 s at 1 GB/s to local NVMe; an adapter is
     * far smaller), and the checkpoint upload for object-store destinations.
     */
    public static final int DEFAULT_CHECKPOINT_GRACE_SECONDS = 120;
    /** Non-root uid/gid of the trainer image; fsGroup makes mounted PVCs writable for it. */
    static final long TRAINER_UID = 1000L;

    private TrainingJob() {
    }

    public static Job desired(FineTuneJob job, OperatorSettings settings) {
        FineTuneJobSpec spec = job.getSpec();
        Map<String, String> labels = Owners.labels(job);
        Map<String, String> jobLabels = new LinkedHashMap<>(labels);
        if (spec.queueName != null) {
            jobLabels.put(Names.KUEUE_QUEUE_LABEL, spec.queueName);
        }
        return new JobBuilder()
                .withMetadata(Owners.metadata(job, Names.trainer(job)))
                .editMetadata()
                .withLabels(jobLabels)
                .addToAnnotations(SpecChange.ANNOTATION, SpecChange.hash(spec))
                .endMetadata()
                .withNewSpec()
                .withParallelism(JobHold.heldAtCreation(spec) ? 0 : GangFacts.nodes(spec))
                .withCompletions(GangFacts.nodes(spec))
                .withBackoffLimit(podBackoffLimit(spec))
                .withPodFailurePolicy(preemptionIsNotAFailure())
                .withActiveDeadlineSeconds(spec.activeDeadlineSeconds)
                .withTtlSecondsAfterFinished(spec.ttlSecondsAfterFinished)
                .withSuspend(JobHold.heldAtCreation(spec))
                .withNewTemplate()
                .withNewMetadata().withLabels(labels).endMetadata()
                .withSpec(podSpec(job, settings))
                .endTemplate()
                .endSpec()
                .build();
    }

    /** spec.backoffLimit, default 3: failures allowed before the Job fails (preemptions are added on top, see the controller). */
    public static int backoffLimit(FineTuneJobSpec spec) {
        return spec.backoffLimit == null ? 3 : spec.backoffLimit;
    }

    /**
     * The Job's backoffLimit, which counts failed pods: spec.backoffLimit counts failed attempts of the run, and one failed
     * attempt of a gang can fail every one of its pods (the peers of a dead rank fail at their next collective), so a
     * gang's pods get spec.backoffLimit x nodes.
     */
    public static int podBackoffLimit(FineTuneJobSpec spec) {
        return backoffLimit(spec) * GangFacts.nodes(spec);
    }

    /**
     * Kubernetes 1.26+ (podFailurePolicy, beta; GA in 1.31): a trainer that exited 75 (stopped on SIGTERM with a
     * checkpoint) or a pod the cluster disrupted (condition DisruptionTarget: preemption, eviction, drain) does not count
     * against backoffLimit. Older API servers drop the field; the controller then raises backoffLimit per preemption.
     */
    static PodFailurePolicy preemptionIsNotAFailure() {
        return new PodFailurePolicyBuilder()
                .addNewRule().withAction("Ignore").withNewOnExitCodes().withContainerName(Names.CONTAINER).withOperator("In")
                .withValues(TrainerResult.PREEMPTED_EXIT_CODE).endOnExitCodes().endRule()
                .addNewRule().withAction("Ignore").addNewOnPodCondition().withType("DisruptionTarget").withStatus("True")
                .endOnPodCondition().endRule()
                .build();
    }

    /** SIGTERM-to-SIGKILL seconds: the trainer's time to finish its step and checkpoint. */
    static long gracePeriodSeconds(FineTuneJobSpec spec) {
        Integer s = spec.training == null ? null : spec.training.checkpointGracePeriodSeconds;
        return s == null ? DEFAULT_CHECKPOINT_GRACE_SECONDS : s;
    }

    static PodSpec podSpec(FineTuneJob job, OperatorSettings settings) {
        ResourcesSpec res = job.getSpec().resources != null ? job.getSpec().resources : new ResourcesSpec();
        List<Volume> volumes = new ArrayList<>();
        List<VolumeMount> mounts = new ArrayList<>();
        volumes.add(new VolumeBuilder().withName("config").withNewConfigMap().withName(Names.configMap(job)).endConfigMap().build());
        mounts.add(mount("config", Paths.CONFIG_DIR, true));
        volumes.add(new VolumeBuilder().withName("scratch").withNewEmptyDir()
                .withSizeLimit(settings.scratchSizeLimit().map(Quantity::new).orElse(null)).endEmptyDir().build());
        mounts.add(mount("scratch", Paths.SCRATCH, false));
        // The root filesystem is read-only; the JVM and native libraries still need a writable /tmp.
        volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
        mounts.add(mount("tmp", Paths.TMP, false));
        if (GangFacts.isGang(job.getSpec())) {
            // the operator writes the gang's ranks as pod annotations once every pod has started; the kubelet updates this
            // file live, the trainer waits for them there (a 1.20 API server has no Indexed Jobs: see GangPlan)
            volumes.add(new VolumeBuilder().withName("podinfo").withNewDownwardAPI().addNewItem().withPath("annotations")
                    .withNewFieldRef().withFieldPath("metadata.annotations").endFieldRef().endItem().endDownwardAPI().build());
            mounts.add(mount("podinfo", Paths.PODINFO_DIR, true));
        }
        int i = 0;
        for (Map.Entry<String, Boolean> claim : pvcClaims(job.getSpec()).entrySet()) {
            String volume = "pvc-" + i++;
            volumes.add(new VolumeBuilder().withName(volume).withNewPersistentVolumeClaim(claim.getKey(), !claim.getValue()).build());
            mounts.add(mount(volume, Paths.PVC_ROOT + "/" + claim.getKey(), !claim.getValue()));
        }
        return new PodSpecBuilder()
                .withRestartPolicy("Never")
                .withTerminationGracePeriodSeconds(gracePeriodSeconds(job.getSpec()))
                .withServiceAccountName(Names.trainer(job))
                .withAutomountServiceAccountToken(true)
                .withNodeSelector(res.nodeSelector)
                .withTolerations(res.tolerations)
                .withPriorityClassName(res.priorityClassName)
                .withSecurityContext(new PodSecurityContextBuilder()
                        .withRunAsNonRoot(true)
                        .withRunAsUser(TRAINER_UID)
                        .withRunAsGroup(TRAINER_UID)
                        .withFsGroup(TRAINER_UID)
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                        .build())
                .withContainers(container(job, settings, res, mounts))
                .withVolumes(volumes)
                .build();
    }

    private static Container container(FineTuneJob job, OperatorSettings settings, ResourcesSpec res, List<VolumeMount> mounts) {
        Map<String, Quantity> limits = new TreeMap<>();
        Map<String, Quantity> requests = new TreeMap<>();
        int gpus = res.gpus == null ? 1 : res.gpus;
        if (gpus > 0) {
            // Extended resources are limit-only (the request defaults to the limit).
            limits.put(res.gpuResourceName == null ? "nvidia.com/gpu" : res.gpuResourceName, new Quantity(Integer.toString(gpus)));
        }
        String cpu = res.cpu != null ? res.cpu : settings.defaultCpu().orElse(null);
        String memory = res.memory != null ? res.memory : settings.defaultMemory().orElse(null);
        if (cpu != null) {
            limits.put("cpu", new Quantity(cpu));
            requests.put("cpu", new Quantity(cpu));
        }
        if (memory != null) {
            limits.put("memory", new Quantity(memory));
            requests.put("memory", new Quantity(memory));
        }
        List<ContainerPort> ports = new ArrayList<>();
        ports.add(new ContainerPortBuilder().withName(Ports.METRICS_NAME).withContainerPort(Ports.METRICS).withProtocol("TCP").build());
        if (GangFacts.isGang(job.getSpec())) {
            ports.add(new ContainerPortBuilder().withName(Ports.RENDEZVOUS_NAME).withContainerPort(Ports.RENDEZVOUS)
                    .withProtocol("TCP").build());
        }
        return new ContainerBuilder()
                .withName(Names.CONTAINER)
                .withImage(image(job, settings))
                .withImagePullPolicy(settings.imagePullPolicy())
                .withCommand("java", "-jar", Paths.TRAINER_JAR, "pod")
                .withEnv(withThreads(env(job), cpu))
                .withPorts(ports)
                .withResources(new ResourceRequirementsBuilder().withLimits(limits).withRequests(requests).build())
                .withVolumeMounts(mounts)
                .withTerminationMessagePath(Paths.TERMINATION_LOG)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .withSecurityContext(new SecurityContextBuilder()
                        .withAllowPrivilegeEscalation(false)
                        .withPrivileged(false)
                        .withReadOnlyRootFilesystem(true)
                        .withRunAsNonRoot(true)
                        .withNewCapabilities().withDrop("ALL").endCapabilities()
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                        .build())
                .build();
    }

    /** spec.image, else the operator's default; null when neither (the validator reports spec.image first). */
    public static String image(FineTuneJob job, OperatorSettings settings) {
        String image = job.getSpec().image;
        return image != null && !image.isBlank() ? image : settings.trainerImage().orElse(null);
    }

    static List<EnvVar> env(FineTuneJob job) {
        List<EnvVar> env = new ArrayList<>();
        env.add(plain(Env.CONFIG, Paths.CONFIG_FILE));
        env.add(plain(Env.JOB_NAME, job.getMetadata().getName()));
        env.add(plain(Env.JOB_NAMESPACE, job.getMetadata().getNamespace()));
        if (job.getMetadata().getUid() != null) {
            // the trainer records it with each checkpoint and refuses a checkpoint of a predecessor with another spec
            env.add(plain(Env.JOB_UID, job.getMetadata().getUid()));
        }
        env.add(plain(Env.SCRATCH, Paths.SCRATCH));
        env.add(plain(Env.TERMINATION_LOG, Paths.TERMINATION_LOG));
        env.add(plain(Env.PVC_ROOT, Paths.PVC_ROOT));
        env.add(plain(Env.HOME, Paths.SCRATCH));
        env.add(plain(Env.DJL_CACHE_DIR, Paths.DJL_CACHE));
        env.addAll(CredentialEnv.env(job.getSpec()));
        int gpus = job.getSpec().resources == null || job.getSpec().resources.gpus == null ? 1 : job.getSpec().resources.gpus;
        if (gpus > 1) {
            // one trainer process per GPU, data-parallel (the trainer's pod command launches them, LOCAL_RANK = device)
            env.add(plain(Env.NPROC, Integer.toString(gpus)));
        }
        if (GangFacts.isGang(job.getSpec())) {
            // Kubeflow Trainer's names; PET_NODE_RANK and PET_MASTER_ADDR come from the rank annotations (PODINFO)
            env.add(plain(Env.PET_NNODES, Integer.toString(GangFacts.nodes(job.getSpec()))));
            env.add(plain(Env.PET_MASTER_PORT, Integer.toString(Ports.RENDEZVOUS)));
            env.add(plain(Env.PODINFO, Paths.PODINFO_ANNOTATIONS));
        }
        return env;
    }

    /**
     * libtorch sizes its thread pool from the node's cores, not the container's CPU limit: a 4-CPU pod on a 64-core node
     * would run 64 threads and be throttled. With a CPU limit, OMP_NUM_THREADS is the limit rounded up (at least 1).
     */
    static List<EnvVar> withThreads(List<EnvVar> env, String cpu) {
        if (cpu != null) {
            BigDecimal cores = Quantity.getAmountInBytes(new Quantity(cpu));
            int threads = Math.max(1, cores.setScale(0, RoundingMode.CEILING).intValueExact());
            env.add(plain(Env.OMP_NUM_THREADS, Integer.toString(threads)));
        }
        return env;
    }

    /** Claim name -> writable, for every pvc:// URI (a claim both read and written is mounted writable). */
    static Map<String, Boolean> pvcClaims(FineTuneJobSpec spec) {
        Map<String, Boolean> claims = new TreeMap<>();
        for (Location loc : StorageLocations.of(spec)) {
            if (loc.isPvc()) {
                claims.merge(loc.claim(), loc.writable(), Boolean::logicalOr);
            }
        }
        return claims;
    }

    private static VolumeMount mount(String name, String path, boolean readOnly) {
        return new VolumeMountBuilder().withName(name).withMountPath(path).withReadOnly(readOnly).build();
    }

    private static EnvVar plain(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }
}
