package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import java.util.List;

/**
 * Reads from the API server on every call: a GET for a Job, a label-selected LIST for pods. Used where no informer runs
 * (the controller tests call a pass by hand) and by {@link CachedReads} for the one view a cache cannot be trusted with.
 */
public final class LiveReads implements ClusterReads {
    private final KubernetesClient client;

    public LiveReads(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public Job job(String namespace, String name) {
        return client.batch().v1().jobs().inNamespace(namespace).withName(name).get();
    }

    @Override
    public List<Pod> pods(String namespace, String fineTuneJob, Job jobAsSeen) {
        return client.pods().inNamespace(namespace).withLabel(Names.JOB_NAME_LABEL, fineTuneJob).list().getItems();
    }

    @Override
    public <T extends HasMetadata> void wrote(FineTuneJob owner, T previous, T written) {
        // the next read asks the server, which holds the write
    }
}
