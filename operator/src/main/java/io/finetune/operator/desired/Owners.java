package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;
import java.util.LinkedHashMap;
import java.util.Map;

/** Metadata shared by every object a FineTuneJob owns: deleting the FineTuneJob garbage-collects them. */
public final class Owners {
    private Owners() {
    }

    public static OwnerReference controllerRef(FineTuneJob job) {
        return new OwnerReferenceBuilder()
                .withApiVersion(FineTuneJob.API_VERSION)
                .withKind("FineTuneJob")
                .withName(job.getMetadata().getName())
                .withUid(job.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }

    public static Map<String, String> labels(FineTuneJob job) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Names.MANAGED_BY_LABEL, Names.MANAGED_BY);
        labels.put(Names.JOB_NAME_LABEL, job.getMetadata().getName());
        return labels;
    }

    /** name + namespace + labels + controller owner reference. */
    public static ObjectMeta metadata(FineTuneJob job, String name) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(job.getMetadata().getNamespace())
                .withLabels(labels(job))
                .withOwnerReferences(controllerRef(job))
                .build();
    }
}
