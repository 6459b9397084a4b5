package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.operator.observe.SpecChange;
import org.junit.jupiter.api.Test;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import static org.assertj.core.api.Assertions.assertThat;

/** The desired training Job, built purely from a FineTuneJob: what the pod gets and what it must never get. */
class TrainingJobTest {
    static FineTuneJob job(String spec) {
        FineTuneJob job = FineTuneJobManifest.parse("apiVersion: finetune.io/v1alpha1\nkind: FineTuneJob\nmetadata:\n  name: demo\n"
                + "spec:\n" + spec.indent(2), "test");
        job.setMetadata(new ObjectMetaBuilder(job.getMetadata()).withNamespace("ml").withUid("u-1").build());
        return job;
    }

    static final String BASE = """
            model: {source: 'hf://org/tiny', credentialsSecret: hf-token}
            dataset: {source: 'pvc://data/sets/train.jsonl'}
            method: {type: LoRA}
            output: {destination: 's3://bucket/out', credentialsSecret: s3-keys}
            """;

    static Container container(Job job) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    static Map<String, EnvVar> env(Job job) {
        return container(job).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
    }

    @Test
    void jobSettingsComeFromTheSpec() {
        Job job = TrainingJob.desired(job(BASE + """
                backoffLimit: 5
                activeDeadlineSeconds: 7200
                ttlSecondsAfterFinished: 600
                suspend: true
                queueName: team-a-gpus
                """), OperatorSettings.defaults());

        assertThat(job.getMetadata().getName()).isEqualTo("demo-trainer");
        assertThat(job.getSpec().getBackoffLimit()).isEqualTo(5);
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(7200L);
        assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(600);
        assertThat(job.getSpec().getSuspend()).isTrue();
        assertThat(job.getMetadata().getLabels()).containsEntry("kueue.x-k8s.io/queue-name", "team-a-gpus");
        assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("finetune.io/job-name", "demo");
        assertThat(job.getMetadata().getAnnotations()).containsKey("finetune.io/spec-hash");
    }

    @Test
    void defaultsWithoutQueueOrDeadline() {
        Job job = TrainingJob.desired(job(BASE), OperatorSettings.defaults());

        assertThat(job.getSpec().getBackoffLimit()).isEqualTo(3);
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isNull();
        assertThat(job.getSpec().getSuspend()).isFalse();
        assertThat(job.getMetadata().getLabels()).doesNotContainKey("kueue.x-k8s.io/queue-name");
        assertThat(container(job).getImage()).isEqualTo("finetune/finetune-trainer:0.1.0");
    }

    @Test
    void gpuCountIsALimitOnTheConfiguredResourceWithScheduling() {
        FineTuneJob ftj = job(BASE + """
                resources:
                  gpus: 2
                  gpuResourceName: amd.com/gpu
                  cpu: "8"
                  memory: 64Gi
                  nodeSelector: {gpu-type: mi300}
                  priorityClassName: training-low
                """);
        ftj.getSpec().resources.tolerations = List.of(new TolerationBuilder().withKey("gpu").withOperator("Exists")
                .withEffect("NoSchedule").build());
        Job job = TrainingJob.desired(ftj, OperatorSettings.defaults());

        PodSpec pod = job.getSpec().getTemplate().getSpec();
        assertThat(container(job).getResources().getLimits()).containsEntry("amd.com/gpu", new Quantity("2"))
                .containsEntry("cpu", new Quantity("8")).containsEntry("memory", new Quantity("64Gi"))
                .doesNotContainKey("nvidia.com/gpu");
        assertThat(container(job).getResources().getRequests()).containsEntry("memory", new Quantity("64Gi"))
                .doesNotContainKey("amd.com/gpu");
        assertThat(pod.getNodeSelector()).containsEntry("gpu-type", "mi300");
        assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("gpu"));
        assertThat(pod.getPriorityClassName()).isEqualTo("training-low");
        // one trainer process per GPU in the pod
        assertThat(env(job).get("FINETUNE_NPROC").getValue()).isEqualTo("2");
        assertThat(env(TrainingJob.desired(job(BASE + "resources: {gpus: 1}\n"), OperatorSettings.defaults())))
                .doesNotContainKey("FINETUNE_NPROC");
    }

    @Test
    void trainerThreadsFollowTheCpuLimitRoundedUp() {
        assertThat(env(TrainingJob.desired(job(BASE + "resources: {cpu: \"8\"}\n"), OperatorSettings.defaults()))
                .get("OMP_NUM_THREADS").getValue()).isEqualTo("8");
        assertThat(env(TrainingJob.desired(job(BASE + "resources: {cpu: 2500m}\n"), OperatorSettings.defaults()))
                .get("OMP_NUM_THREADS").getValue()).isEqualTo("3");
        assertThat(env(TrainingJob.desired(job(BASE + "resources: {cpu: 100m}\n"), OperatorSettings.defaults()))
                .get("OMP_NUM_THREADS").getValue()).isEqualTo("1");
        // No limit: libtorch may use the node's cores, so nothing is set.
        assertThat(env(TrainingJob.desired(job(BASE), OperatorSettings.defaults()))).doesNotContainKey("OMP_NUM_THREADS");
    }

    @Test
    void cpuOnlyJobHasNoGpuLimit() {
        Job job = TrainingJob.desired(job(BASE + "resources: {gpus: 0}\n"), OperatorSettings.defaults());

        assertThat(container(job).getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
    }

    @Test
    void podPassesTheRestrictedPodSecurityProfile() {
        Job job = TrainingJob.desired(job(BASE), OperatorSettings.defaults());
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        var c = container(job).getSecurityContext();

        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(c.getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(c.getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getPrivileged()).isFalse();
        assertThat(pod.getHostNetwork()).isNull();
        assertThat(pod.getVolumes()).noneMatch(v -> v.getHostPath() != null);
        assertThat(mountPaths(job)).containsEntry("/scratch", false).containsEntry("/tmp", false);
        assertThat(volume(job, "scratch").getEmptyDir()).isNotNull();
    }

    @Test
    void containerFollowsThePodContract() {
        Job job = TrainingJob.desired(job(BASE), OperatorSettings.defaults());
        Container c = container(job);

        assertThat(c.getCommand()).containsExactly("java", "-jar", "/opt/finetune/finetune-trainer.jar", "pod");
        assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
        assertThat(c.getTerminationMessagePath()).isEqualTo("/dev/termination-log");
        assertThat(c.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("metrics");
            assertThat(p.getContainerPort()).isEqualTo(9400);
        });
        Map<String, EnvVar> env = env(job);
        assertThat(env.get("FINETUNE_CONFIG").getValue()).isEqualTo("/etc/finetune/job.yaml");
        assertThat(env.get("FINETUNE_JOB_NAME").getValue()).isEqualTo("demo");
        assertThat(env.get("FINETUNE_JOB_NAMESPACE").getValue()).isEqualTo("ml");
        assertThat(env.get("FINETUNE_JOB_UID").getValue()).isEqualTo("u-1");
        assertThat(env.get("FINETUNE_SCRATCH").getValue()).isEqualTo("/scratch");
        assertThat(env.get("FINETUNE_TERMINATION_LOG").getValue()).isEqualTo("/dev/termination-log");
        assertThat(env.get("FINETUNE_PVC_ROOT").getValue()).isEqualTo("/mnt/pvc");
        assertThat(env.get("HOME").getValue()).isEqualTo("/scratch");
        assertThat(env.get("DJL_CACHE_DIR").getValue()).isEqualTo("/scratch/djl");
        assertThat(mountPaths(job)).containsEntry("/etc/finetune", true);
        assertThat(volume(job, "config").getConfigMap().getName()).isEqualTo("demo-config");
        assertThat(job.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("demo-trainer");
        assertThat(job.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken()).isTrue();
    }

    @Test
    void credentialsAreOnlySecretKeyRefsFromTheSecretOfTheirStorage() {
        Map<String, EnvVar> env = env(TrainingJob.desired(job(BASE), OperatorSettings.defaults()));

        for (String key : List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL",
                "S3_FORCE_PATH_STYLE")) {
            assertThat(env.get(key).getValue()).as(key).isNull();
            assertThat(env.get(key).getValueFrom().getSecretKeyRef().getName()).as(key).isEqualTo("s3-keys");
            assertThat(env.get(key).getValueFrom().getSecretKeyRef().getKey()).isEqualTo(key);
            assertThat(env.get(key).getValueFrom().getSecretKeyRef().getOptional()).isTrue();
        }
        assertThat(env.get("HF_TOKEN").getValueFrom().getSecretKeyRef().getName()).isEqualTo("hf-token");
        assertThat(env.get("HF_ENDPOINT").getValueFrom().getSecretKeyRef().getName()).isEqualTo("hf-token");
        assertThat(env.values()).filteredOn(e -> e.getValueFrom() != null)
                .allMatch(e -> e.getValueFrom().getSecretKeyRef() != null);
    }

    @Test
    void noSecretsNoCredentialEnv() {
        Map<String, EnvVar> env = env(TrainingJob.desired(job("""
                model: {source: 'pvc://models/tiny'}
                dataset: {source: 'pvc://data/train.jsonl'}
                method: {type: LoRA}
                output: {destination: 'pvc://out/run'}
                """), OperatorSettings.defaults()));

        assertThat(env).doesNotContainKeys("AWS_ACCESS_KEY_ID", "HF_TOKEN");
    }

    @Test
    void pvcSourcesAreMountedReadOnlyAndTheDestinationWritable() {
        Job job = TrainingJob.desired(job("""
                model: {source: 'pvc://models/llama/8b'}
                dataset: {source: 'pvc://shared/data/train.jsonl', evalSource: 'pvc://models/eval.jsonl'}
                method: {type: LoRA}
                output: {destination: 'pvc://shared/out/run-1'}
                """), OperatorSettings.defaults());

        Map<String, Boolean> mounts = mountPaths(job);
        assertThat(mounts).containsEntry("/mnt/pvc/models", true).containsEntry("/mnt/pvc/shared", false);
        List<String> claims = job.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getPersistentVolumeClaim() != null).map(v -> v.getPersistentVolumeClaim().getClaimName()).toList();
        assertThat(claims).containsExactlyInAnyOrder("models", "shared");
    }

    @Test
    void operatorDefaultsFillUnsetResourcesAndScratchLimit() {
        OperatorSettings settings = new OperatorSettings(Optional.of("registry.local/trainer:1"), "Always", Optional.of("4"),
                Optional.of("16Gi"), Optional.of("100Gi"));
        Job job = TrainingJob.desired(job(BASE), settings);

        assertThat(container(job).getImage()).isEqualTo("registry.local/trainer:1");
        assertThat(container(job).getImagePullPolicy()).isEqualTo("Always");
        assertThat(container(job).getResources().getLimits()).containsEntry("cpu", new Quantity("4"))
                .containsEntry("memory", new Quantity("16Gi"));
        assertThat(volume(job, "scratch").getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("100Gi"));
    }

    @Test
    void specHashIgnoresSuspendOnly() {
        FineTuneJob a = job(BASE);
        FineTuneJob b = job(BASE + "suspend: true\n");
        FineTuneJob c = job(BASE + "training: {learningRate: 0.001}\n");

        assertThat(SpecChange.hash(a.getSpec())).isEqualTo(SpecChange.hash(b.getSpec())).isNotEqualTo(SpecChange.hash(c.getSpec()));
    }

    private static Map<String, Boolean> mountPaths(Job job) {
        return container(job).getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getMountPath, m -> Boolean.TRUE.equals(m.getReadOnly())));
    }

    private static Volume volume(Job job, String name) {
        return job.getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst().orElseThrow();
    }
}
