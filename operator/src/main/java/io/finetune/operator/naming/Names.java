package io.finetune.operator.naming;

import io.finetune.api.v1alpha1.FineTuneJob;

/** Names, labels and annotations of the objects the operator creates for a FineTuneJob. */
public final class Names {
    /** A Job name must stay a valid label value (63) after the "-trainer" suffix; the Job controller copies it to pods. */
    public static final int MAX_JOB_NAME_LENGTH = 63 - "-trainer".length();

    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "finetune-operator";
    /** Set on the Job and its pods: which FineTuneJob they belong to (the pod informer maps events back with it). */
    public static final String JOB_NAME_LABEL = "finetune.io/job-name";
    public static final String KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name";

    /** Set on the preflight Job's pods (value {@link #PREFLIGHT}): they are not training pods. */
    public static final String COMPONENT_LABEL = "finetune.io/component";
    public static final String PREFLIGHT = "preflight";

    public static final String CONTAINER = "trainer";

    private Names() {
    }

    public static String configMap(FineTuneJob job) {
        return job.getMetadata().getName() + "-config";
    }

    /** The CPU preflight Job ("-check" keeps it within the limit the "-trainer" suffix sets). */
    public static String preflight(FineTuneJob job) {
        return job.getMetadata().getName() + "-check";
    }

    /** One name for the per-job Job, ServiceAccount, Role and RoleBinding. */
    public static String trainer(FineTuneJob job) {
        return job.getMetadata().getName() + "-trainer";
    }
}
