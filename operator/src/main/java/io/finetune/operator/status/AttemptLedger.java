package io.finetune.operator.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Usage;
import io.finetune.operator.observe.PodFacts;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One entry per training pod that ran, kept on the training Job (annotation {@value #ANNOTATION}) because the pods
 * themselves go away (deleted on eviction or preemption, garbage-collected by ttlSecondsAfterFinished) while GPU time
 * must still be billed and preemptions must still not count against spec.backoffLimit. The Job is the operator's own
 * object and lives exactly as long as the run.
 */
public final class AttemptLedger {
    public static final String ANNOTATION = "finetune.io/attempts";
    private static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);

    /**
     * @param startedAt  when the trainer container started (RFC 3339, second resolution as the kubelet reports it)
     * @param finishedAt when it ended; null while it runs
     * @param gpus       GPUs the pod held (its container's *gpu limits)
     * @param exitCode   the trainer's exit code; null while running or when the pod vanished before its end was seen
     * @param deleted    true once the pod was seen being deleted while it ran (eviction, preemption, suspend, drain): the
     *                   kubelet then SIGTERMs the trainer, and often removes the pod before its final state is observed
     */
    public record Attempt(String startedAt, String finishedAt, int gpus, Integer exitCode, Boolean deleted) {
        /** Stopped on SIGTERM with a checkpoint (exit 75), or deleted while running with no other exit code seen. */
        public boolean preempted() {
            return exitCode != null ? exitCode == TrainerResult.PREEMPTED_EXIT_CODE : Boolean.TRUE.equals(deleted);
        }

        /** Running time x GPUs; 0 until the attempt has ended. */
        public double gpuSeconds() {
            if (finishedAt == null || startedAt == null) {
                return 0;
            }
            try {
                long s = Duration.between(Instant.parse(startedAt), Instant.parse(finishedAt)).toSeconds();
                return Math.max(0, s) * (double) gpus;
            } catch (DateTimeParseException e) {
                return 0;
            }
        }
    }

    private AttemptLedger() {
    }

    /** The ledger recorded on the Job; empty when there is none or it cannot be read (hand-edited). */
    public static Map<String, Attempt> read(Job job) {
        String json = job == null || job.getMetadata().getAnnotations() == null ? null
                : job.getMetadata().getAnnotations().get(ANNOTATION);
        if (json == null || json.isBlank()) {
            return new TreeMap<>();
        }
        try {
            return new TreeMap<>(JSON.readValue(json, new TypeReference<Map<String, Attempt>>() { }));
        } catch (JsonProcessingException e) {
            return new TreeMap<>();
        }
    }

    public static String write(Map<String, Attempt> ledger) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(ledger));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("attempt ledger is not serialisable", e);
        }
    }

    /**
     * {@code previous} with what the pods show now: a started pod is added, a finished one gets its end and exit code, and
     * an attempt whose pod vanished while running ends {@code now} (when its disappearance was noticed).
     */
    public static Map<String, Attempt> update(Map<String, Attempt> previous, List<Pod> pods, Instant now) {
        Map<String, Attempt> out = new TreeMap<>(previous);
        for (Pod pod : pods) {
            if (!PodFacts.started(pod)) {
                continue;
            }
            String name = pod.getMetadata().getName();
            Attempt had = out.get(name);
            if (had != null && had.finishedAt() != null) {
                continue;
            }
            String started = had != null && had.startedAt() != null ? had.startedAt() : PodFacts.startTime(pod).orElse(now.toString());
            Optional<ContainerStateTerminated> t = PodFacts.finished(pod) ? PodFacts.terminated(pod) : Optional.empty();
            String finished = PodFacts.finished(pod) ? t.map(ContainerStateTerminated::getFinishedAt).orElse(now.toString()) : null;
            Integer exit = t.map(ContainerStateTerminated::getExitCode).orElse(null);
            boolean deleted = pod.getMetadata().getDeletionTimestamp() != null || had != null && Boolean.TRUE.equals(had.deleted());
            out.put(name, new Attempt(started, finished, gpus(pod), exit, deleted ? Boolean.TRUE : null));
        }
        for (Map.Entry<String, Attempt> e : out.entrySet()) {
            Attempt a = e.getValue();
            boolean present = pods.stream().anyMatch(p -> e.getKey().equals(p.getMetadata().getName()));
            if (a.finishedAt() == null && !present) {
                e.setValue(new Attempt(a.startedAt(), now.toString(), a.gpus(), null, a.deleted()));
            }
        }
        return out;
    }

    public static Usage usage(Map<String, Attempt> ledger) {
        Usage u = new Usage();
        u.attempts = ledger.size();
        u.preemptions = (int) ledger.values().stream().filter(Attempt::preempted).count();
        u.gpuSeconds = ledger.values().stream().mapToDouble(Attempt::gpuSeconds).sum();
        return u;
    }

    /** GPU-seconds of the attempts that ended in {@code now} but not in {@code before} (for the chargeback counter). */
    public static double newlyBilled(Map<String, Attempt> before, Map<String, Attempt> now) {
        double sum = 0;
        for (Map.Entry<String, Attempt> e : now.entrySet()) {
            Attempt was = before.get(e.getKey());
            if (e.getValue().finishedAt() != null && (was == null || was.finishedAt() == null)) {
                sum += e.getValue().gpuSeconds();
            }
        }
        return sum;
    }

    /** GPUs in the trainer container's limits: every resource whose name ends in "gpu" (nvidia.com/gpu, amd.com/gpu). */
    static int gpus(Pod pod) {
        return PodFacts.trainerContainer(pod).map(c -> c.getResources() == null || c.getResources().getLimits() == null ? 0
                : c.getResources().getLimits().entrySet().stream().filter(e -> e.getKey().endsWith("gpu"))
                .mapToInt(e -> Quantity.getAmountInBytes(e.getValue()).intValue()).sum()).orElse(0);
    }
}
