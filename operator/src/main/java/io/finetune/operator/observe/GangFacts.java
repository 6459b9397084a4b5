package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.TrainerContract.Gang;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The size of a run's world and what a gang pod's annotations say ({@link Gang}): read by the act step (which assigns
 * ranks) and by the status (world size, which pod reports), so it lives where both may depend on it.
 */
public final class GangFacts {
    private GangFacts() {
    }

    /** spec.resources.nodes, default 1: the pods of the gang. */
    public static int nodes(FineTuneJobSpec spec) {
        return spec == null || spec.resources == null || spec.resources.nodes == null ? 1 : Math.max(1, spec.resources.nodes);
    }

    /** Trainer processes per pod: one per GPU when the pod has several, else one. */
    public static int processesPerPod(FineTuneJobSpec spec) {
        int gpus = spec == null || spec.resources == null || spec.resources.gpus == null ? 1 : spec.resources.gpus;
        return Math.max(1, gpus);
    }

    /** Ranks of the run: nodes x processes per pod. */
    public static int worldSize(FineTuneJobSpec spec) {
        return nodes(spec) * processesPerPod(spec);
    }

    /** True for a run of several pods (the operator assigns their ranks). */
    public static boolean isGang(FineTuneJobSpec spec) {
        return nodes(spec) > 1;
    }

    /** The gang attempt a pod was assigned to; empty while it waits for its rank (or holds an unreadable value). */
    public static OptionalInt attempt(Pod pod) {
        String v = annotation(pod, Gang.ATTEMPT);
        return v != null && v.matches("\\d{1,9}") ? OptionalInt.of(Integer.parseInt(v)) : OptionalInt.empty();
    }

    /**
     * The latest gang attempt recorded on the Job (0 before the first): the pods of an ended attempt may be gone, so the
     * numbering goes on from here.
     */
    public static int recordedAttempt(Job job) {
        Map<String, String> a = job == null || job.getMetadata() == null ? null : job.getMetadata().getAnnotations();
        String v = a == null ? null : a.get(Gang.ATTEMPT);
        return v != null && v.matches("\\d{1,9}") ? Integer.parseInt(v) : 0;
    }

    /** The pod's rank, "?" when it has none. */
    public static String rank(Pod pod) {
        String v = annotation(pod, Gang.RANK);
        return v == null ? "?" : v;
    }

    /**
     * Whether the pod may carry the run's result: rank 0 of a gang, or any pod of a single-pod run. Ranks other than 0
     * write no termination message, and neither does a gang pod that never got a rank: the Job controller can start a
     * surplus pod (it then deletes it once the Job completes, and that pod's trainer, stopped while it waited for its
     * rank, exits after rank 0), so in a gang only a pod with rank 0 counts, never one without a rank.
     */
    public static boolean reports(FineTuneJobSpec spec, Pod pod) {
        String v = annotation(pod, Gang.RANK);
        return isGang(spec) ? "0".equals(v) : v == null || "0".equals(v);
    }

    private static String annotation(Pod pod, String key) {
        Map<String, String> a = pod.getMetadata() == null ? null : pod.getMetadata().getAnnotations();
        return a == null ? null : a.get(key);
    }
}
