package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.finetune.api.TrainerContract.Paths;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import java.util.Map;

/**
 * ConfigMap {@code <job>-config} with key {@code job.yaml}: the FineTuneJob (apiVersion, kind, name, namespace, uid,
 * spec) the trainer pod reads from /etc/finetune (docs/contracts.md, "ConfigMap"). Status is left out: the pod reads live status itself.
 */
public final class TrainerConfigMap {
    private TrainerConfigMap() {
    }

    public static ConfigMap desired(FineTuneJob job) {
        return new ConfigMapBuilder()
                .withMetadata(Owners.metadata(job, Names.configMap(job)))
                .withData(Map.of(Paths.CONFIG_KEY, jobYaml(job)))
                .build();
    }

    static String jobYaml(FineTuneJob job) {
        FineTuneJob resolved = new FineTuneJob();
        resolved.setMetadata(new ObjectMetaBuilder()
                .withName(job.getMetadata().getName())
                .withNamespace(job.getMetadata().getNamespace())
                .withUid(job.getMetadata().getUid())
                .build());
        resolved.setSpec(job.getSpec());
        resolved.setStatus(null);
        return Serialization.asYaml(resolved);
    }
}
