package io.finetune.operator.metrics;

import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * Prometheus metrics on /q/metrics: finetune_reconciles_total, finetune_reconcile_errors_total,
 * finetune_jobs_created_total, finetune_jobs{phase=...} counted from the operator's cache of FineTuneJobs, and
 * finetune_gpu_seconds_total{namespace} (chargeback: GPU time of training pods, added when each pod ends).
 */
public class OperatorMetrics {
    private final Counter reconciles;
    private final Counter errors;
    private final Counter jobsCreated;
    private volatile Supplier<Collection<FineTuneJob>> jobs = List::of;
    private final MeterRegistry registry;

    public OperatorMetrics(MeterRegistry registry) {
        this.registry = registry;
        reconciles = Counter.builder("finetune.reconciles").description("FineTuneJob reconciles run").register(registry);
        errors = Counter.builder("finetune.reconcile.errors").description("FineTuneJob reconciles that threw").register(registry);
        jobsCreated = Counter.builder("finetune.jobs.created").description("Training Jobs created").register(registry);
        for (Phase phase : Phase.values()) {
            Gauge.builder("finetune.jobs", () -> count(phase)).tag("phase", phase.name())
                    .description("FineTuneJobs by status.phase").register(registry);
        }
    }

    /** Where the gauge counts from (the informer cache once the operator starts). */
    public void countFrom(Supplier<Collection<FineTuneJob>> source) {
        this.jobs = source;
    }

    public void reconciled() {
        reconciles.increment();
    }

    public void failed() {
        errors.increment();
    }

    /** GPU-seconds of training pods that ended, by the FineTuneJob's namespace. */
    public void gpuSeconds(String namespace, double seconds) {
        Counter c = Counter.builder("finetune.gpu.seconds").description("GPU-seconds used by training pods (running time x GPUs)")
                .tag("namespace", namespace).register(registry);
        if (seconds > 0) {
            c.increment(seconds);
        }
    }

    public void jobCreated() {
        jobsCreated.increment();
    }

    private double count(Phase phase) {
        Phase unset = Phase.Pending;
        return jobs.get().stream()
                .filter(j -> (j.getStatus() == null || j.getStatus().phase == null ? unset : j.getStatus().phase) == phase)
                .count();
    }
}
