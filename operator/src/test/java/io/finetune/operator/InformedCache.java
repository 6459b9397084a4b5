package io.finetune.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.finetune.operator.naming.Names;
import io.finetune.operator.observe.InformerCache;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A plain fabric8 informer as the observe step's cache (what JOSDK's event source is in the operator), for the tests
 * that run passes on cached reads without JOSDK. The operator's own writes are served until the informer holds that
 * resourceVersion or a newer one (the mock server's versions are numbers), like JOSDK's temporary cache.
 */
final class InformedCache<T extends HasMetadata> implements InformerCache<T> {
    private static final String INDEX = "ftj";
    private final SharedIndexInformer<T> informer;
    private final Map<String, T> written = new ConcurrentHashMap<>();

    /** @param informer not yet started: the index is added first */
    InformedCache(SharedIndexInformer<T> informer) {
        this.informer = informer;
        informer.addIndexers(Map.of(INDEX, o -> {
            String ftj = o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(Names.JOB_NAME_LABEL);
            return ftj == null ? List.of() : List.of(o.getMetadata().getNamespace() + "/" + ftj);
        }));
    }

    SharedIndexInformer<T> informer() {
        return informer;
    }

    @Override
    public Optional<T> get(String namespace, String name) {
        T cached = informer.getStore().getByKey(namespace + "/" + name);
        T mine = written.get(namespace + "/" + name);
        return Optional.ofNullable(mine != null && (cached == null || version(cached) < version(mine)) ? mine : cached);
    }

    @Override
    public List<T> ofFineTuneJob(String namespace, String fineTuneJob) {
        return informer.getIndexer().byIndex(INDEX, namespace + "/" + fineTuneJob).stream()
                .map(o -> get(o.getMetadata().getNamespace(), o.getMetadata().getName()).orElse(o)).toList();
    }

    @Override
    public void wrote(String namespace, String fineTuneJob, T previous, T object) {
        written.put(object.getMetadata().getNamespace() + "/" + object.getMetadata().getName(), object);
    }

    private static long version(HasMetadata o) {
        return Long.parseLong(o.getMetadata().getResourceVersion());
    }
}
