package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.finetune.api.TrainerContract.Paths;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import java.util.List;
import java.util.Optional;

/**
 * The observe step: reads, never writes. The training Job and whether this FineTuneJob owns it, a spec change since the Job
 * was built ({@link SpecChange}), the preflight's verdict, and (after the act step) the training pods. Jobs and pods come
 * from {@link ClusterReads} (the informer caches in the operator); only the recorded ConfigMap, read when the spec hash
 * on the Job differs from the live spec (to name the changed fields), is a live GET.
 */
public class Observer {
    private final ClusterReads reads;
    private final KubernetesClient client;

    public Observer(ClusterReads reads, KubernetesClient client) {
        this.reads = reads;
        this.client = client;
    }

    /** @param preflightRequired whether the GPU Job still waits for a preflight (read from the recorded conditions) */
    public Observation observe(FineTuneJob resource, boolean preflightRequired) {
        String ns = resource.getMetadata().getNamespace();
        Job job = reads.job(ns, Names.trainer(resource));
        String blocked = null;
        if (job != null && !isOwnedBy(job.getMetadata(), resource)) {
            blocked = "Job " + job.getMetadata().getName() + " exists but belongs to another owner (a deleted FineTuneJob of the same"
                    + " name?); waiting for it to go away";
            job = null;
        }
        String specChange = job == null ? null : SpecChange.describe(resource.getSpec(), job, () -> recordedJob(resource));
        PreflightVerdict preflight = preflightRequired && (job != null || blocked == null) ? preflight(resource).orElse(null) : null;
        return new Observation(resource, job, blocked, specChange, preflightRequired, preflight, List.of());
    }

    /** The training pods of the Job (none while there is no Job); preflight pods share the job-name label and are left out. */
    public Observation withPods(Observation seen) {
        if (seen.job() == null) {
            return seen.withPods(List.of());
        }
        FineTuneJob resource = seen.resource();
        return seen.withPods(reads.pods(resource.getMetadata().getNamespace(), resource.getMetadata().getName(), seen.job()).stream()
                .filter(p -> !Names.PREFLIGHT.equals(p.getMetadata().getLabels().get(Names.COMPONENT_LABEL))).toList());
    }

    /**
     * The verdict of an existing preflight Job; empty when there is none. Also read after the GPU Job exists while the status
     * lacks PreflightPassed=True: a pass that worked from a stale cache may have written the conditions without it.
     */
    Optional<PreflightVerdict> preflight(FineTuneJob resource) {
        String ns = resource.getMetadata().getNamespace();
        Job job = reads.job(ns, Names.preflight(resource));
        if (job == null) {
            return Optional.empty();
        }
        List<Pod> pods = reads.pods(ns, resource.getMetadata().getName(), null).stream()
                .filter(p -> Names.PREFLIGHT.equals(p.getMetadata().getLabels().get(Names.COMPONENT_LABEL))).toList();
        return Optional.of(PreflightVerdict.read(job, pods));
    }

    /** The FineTuneJob recorded in the job's ConfigMap (the spec the Job was built from), or null. */
    private FineTuneJob recordedJob(FineTuneJob resource) {
        ConfigMap cm = client.configMaps().inNamespace(resource.getMetadata().getNamespace()).withName(Names.configMap(resource)).get();
        if (cm == null || cm.getData() == null || cm.getData().get(Paths.CONFIG_KEY) == null) {
            return null;
        }
        return Serialization.unmarshal(cm.getData().get(Paths.CONFIG_KEY), FineTuneJob.class);
    }

    /** True when {@code meta} is controlled by exactly this FineTuneJob (same uid), not a deleted namesake. */
    public static boolean isOwnedBy(ObjectMeta meta, FineTuneJob job) {
        return meta.getOwnerReferences() != null && meta.getOwnerReferences().stream()
                .anyMatch(r -> Boolean.TRUE.equals(r.getController()) && job.getMetadata().getUid() != null
                        && job.getMetadata().getUid().equals(r.getUid()));
    }
}
