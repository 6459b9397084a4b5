package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Watches one FineTuneJob and records each distinct status a user would see in {@code kubectl get ftj -w}: phase, reason
 * of the newest condition, progress (step/total, loss), attempts; the time since the job was created.
 */
final class StatusRecorder implements AutoCloseable {
    /** One observed status. */
    record Seen(long millis, Phase phase, Long step, Long totalSteps, Double loss, Integer attempts, String message,
                String reason) {
        String line() {
            return String.format(Locale.ROOT, "+%5.1fs  %-9s %-21s  step %s/%s  loss %s  attempts %s%s", millis / 1000.0,
                    phase, reason == null ? "" : "(" + reason + ")", step == null ? "-" : step,
                    totalSteps == null ? "-" : totalSteps,
                    loss == null ? "-" : String.format(Locale.ROOT, "%.4f", loss), attempts == null ? "-" : attempts,
                    message == null ? "" : "  " + message);
        }
    }

    private final long start = System.nanoTime();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final Watch watch;
    private volatile FineTuneJob latest;
    private final java.util.Map<Phase, FineTuneJob> byPhase = new java.util.EnumMap<>(Phase.class);

    StatusRecorder(KubernetesClient admin, String namespace, String name) {
        watch = admin.resources(FineTuneJob.class).inNamespace(namespace).withName(name).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, FineTuneJob job) {
                record(job);
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
    }

    private synchronized void record(FineTuneJob job) {
        latest = job;
        if (job.getStatus() != null && job.getStatus().phase != null) {
            byPhase.putIfAbsent(job.getStatus().phase, job);
        }
        FineTuneJobStatus s = job.getStatus();
        Seen now = s == null ? new Seen(elapsed(), null, null, null, null, null, null, null)
                : new Seen(elapsed(), s.phase, s.progress == null ? null : s.progress.step,
                s.progress == null ? null : s.progress.totalSteps, s.progress == null ? null : s.progress.loss, s.attempts,
                s.message, reason(s));
        Seen last = seen.isEmpty() ? null : seen.get(seen.size() - 1);
        if (last == null || !Objects.equals(last.phase(), now.phase()) || !Objects.equals(last.step(), now.step())
                || !Objects.equals(last.attempts(), now.attempts()) || !Objects.equals(last.message(), now.message())
                || !Objects.equals(last.reason(), now.reason())) {
            seen.add(now);
        }
    }

    /**
     * The reason that explains the phase, as {@code kubectl describe ftj} would show it: the Failed condition's reason of a
     * failed job, the Scheduled=False reason of a pending one (else its Running condition's), the Running condition's reason
     * of a running one (Running / Finishing).
     */
    static String reason(FineTuneJobStatus s) {
        if (s == null || s.phase == null || s.conditions == null) {
            return null;
        }
        String type = switch (s.phase) {
            case Failed -> "Failed";
            case Succeeded -> "Succeeded";
            case Suspended -> "Suspended";
            default -> "Running";
        };
        if (s.phase == Phase.Pending) {
            String unscheduled = condition(s, "Scheduled").filter(c -> "False".equals(c.getStatus()))
                    .map(Condition::getReason).orElse(null);
            if (unscheduled != null) {
                return unscheduled;
            }
        }
        return condition(s, type).map(Condition::getReason).orElse(null);
    }

    static Optional<Condition> condition(FineTuneJobStatus s, String type) {
        return s.conditions == null ? Optional.empty()
                : s.conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    private long elapsed() {
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** The first object seen in each phase (what a GitOps tool would have read then). */
    synchronized java.util.Map<Phase, FineTuneJob> firstByPhase() {
        return new java.util.EnumMap<>(byPhase);
    }

    List<Seen> seen() {
        return List.copyOf(seen);
    }

    List<Phase> phases() {
        List<Phase> out = new ArrayList<>();
        for (Seen s : seen) {
            if (s.phase() != null && (out.isEmpty() || out.get(out.size() - 1) != s.phase())) {
                out.add(s.phase());
            }
        }
        return out;
    }

    String transcript() {
        StringBuilder sb = new StringBuilder();
        seen.forEach(s -> sb.append(s.line()).append('\n'));
        return sb.toString();
    }

    /** Waits until the job satisfies {@code done}; returns it. */
    FineTuneJob await(Predicate<FineTuneJob> done, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            FineTuneJob j = latest;
            if (j != null && done.test(j)) {
                return j;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what + "; statuses seen:\n"
                + transcript());
    }

    static boolean inPhase(FineTuneJob j, Phase p) {
        return j.getStatus() != null && j.getStatus().phase == p;
    }

    @Override
    public void close() {
        watch.close();
    }
}
