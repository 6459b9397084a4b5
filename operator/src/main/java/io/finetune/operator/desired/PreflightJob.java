package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.finetune.api.TrainerContract.Env;
import io.finetune.api.TrainerContract.Paths;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import io.finetune.operator.settings.OperatorSettings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPU-only Job that runs {@code trainer preflight} before the GPU Job exists: the training pod's volumes, ServiceAccount,
 * credential env and restricted security context, but 1 CPU / 2 GiB, no GPU, no node constraints of the GPU pod, no retry.
 */
public final class PreflightJob {
    public static final String CPU = "1";
    public static final String MEMORY = "2Gi";
    /** A preflight reads config.json, the tokenizer and the dataset: ten minutes is generous. */
    static final long DEADLINE_SECONDS = 600;

    private PreflightJob() {
    }

    /** @param gpuMemoryBytes the GPU size to plan for, or null with {@code note} saying why it is unknown */
    public static Job desired(FineTuneJob job, OperatorSettings settings, Long gpuMemoryBytes, String note) {
        Map<String, String> labels = new LinkedHashMap<>(Owners.labels(job));
        labels.put(Names.COMPONENT_LABEL, Names.PREFLIGHT);
        PodSpec trainer = TrainingJob.podSpec(job, settings);
        Container c = trainer.getContainers().get(0);
        List<EnvVar> env = new ArrayList<>();
        for (EnvVar e : c.getEnv()) {
            if (!e.getName().equals(Env.OMP_NUM_THREADS)) {
                env.add(e);
            }
        }
        env.add(new EnvVarBuilder().withName(Env.OMP_NUM_THREADS).withValue(CPU).build());
        if (gpuMemoryBytes != null) {
            env.add(new EnvVarBuilder().withName(Env.GPU_MEMORY_BYTES).withValue(Long.toString(gpuMemoryBytes)).build());
        } else {
            env.add(new EnvVarBuilder().withName(Env.GPU_MEMORY_NOTE).withValue(note).build());
        }
        Map<String, Quantity> res = Map.of("cpu", new Quantity(CPU), "memory", new Quantity(MEMORY));
        Container container = new ContainerBuilder(c)
                .withCommand("java", "-Xmx1g", "-jar", Paths.TRAINER_JAR, "preflight")
                .withEnv(env)
                .withPorts(List.of())
                .withResources(new ResourceRequirementsBuilder().withLimits(res).withRequests(res).build())
                .build();
        PodSpec pod = new PodSpecBuilder(trainer)
                .withNodeSelector(null)
                .withTolerations(List.of())
                .withPriorityClassName(null)
                .withContainers(container)
                .build();
        return new JobBuilder()
                .withMetadata(Owners.metadata(job, Names.preflight(job)))
                .editMetadata().withLabels(labels).endMetadata()
                .withNewSpec()
                .withParallelism(1)
                .withCompletions(1)
                .withBackoffLimit(0)
                .withActiveDeadlineSeconds(DEADLINE_SECONDS)
                .withNewTemplate()
                .withNewMetadata().withLabels(labels).endMetadata()
                .withSpec(pod)
                .endTemplate()
                .endSpec()
                .build();
    }
}
