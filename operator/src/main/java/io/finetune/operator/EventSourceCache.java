package io.finetune.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import io.finetune.operator.observe.InformerCache;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.List;
import java.util.Map;

/**
 * A JOSDK informer event source as the observe step's {@link InformerCache}: lookups by name go through JOSDK's
 * temporary cache (what the operator just wrote), lookups by FineTuneJob through an index on the job-name label (a pass
 * at 5,000 jobs must not scan every pod), each object then taken from the same temporary cache when it holds a newer one.
 */
final class EventSourceCache<T extends HasMetadata> implements InformerCache<T> {
    private static final String BY_FINETUNEJOB = "finetune.io/job-name";

    private final InformerEventSource<T, FineTuneJob> source;

    /** Must be built before the event source starts: the index is added then. */
    EventSourceCache(InformerEventSource<T, FineTuneJob> source) {
        this.source = source;
        source.addIndexers(Map.of(BY_FINETUNEJOB, o -> {
            String owner = o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(Names.JOB_NAME_LABEL);
            return owner == null ? List.of() : List.of(key(o.getMetadata().getNamespace(), owner));
        }));
    }

    private static String key(String namespace, String fineTuneJob) {
        return namespace + "/" + fineTuneJob;
    }

    @Override
    public java.util.Optional<T> get(String namespace, String name) {
        return source.get(new ResourceID(name, namespace));
    }

    @Override
    public List<T> ofFineTuneJob(String namespace, String fineTuneJob) {
        return source.byIndex(BY_FINETUNEJOB, key(namespace, fineTuneJob)).stream()
                .map(o -> source.get(ResourceID.fromResource(o)).orElse(o)).toList();
    }

    @Override
    public void wrote(String namespace, String fineTuneJob, T previous, T written) {
        ResourceID primary = new ResourceID(fineTuneJob, namespace);
        if (previous == null) {
            source.handleRecentResourceCreate(primary, written);
        } else {
            source.handleRecentResourceUpdate(primary, written, previous);
        }
    }
}
