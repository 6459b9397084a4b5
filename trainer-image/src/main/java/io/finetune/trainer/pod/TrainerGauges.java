package io.finetune.trainer.pod;

import io.finetune.api.v1alpha1.Progress;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Arrays;
import java.util.List;

/**
 * The trainer's Prometheus gauges, fed by the same progress reports as the status patch (so the two never disagree).
 * A report and a scrape each take one short lock, so a scrape never shows the step of one report with the loss of another:
 * hence one collector for all five (the client's own {@code Gauge}s are collected one by one).
 */
public final class TrainerGauges implements ProgressSink, MultiCollector {

    /** One exported gauge. */
    public enum Gauge {
        STEP("finetune_trainer_step", "Optimizer steps done."),
        TOTAL_STEPS("finetune_trainer_total_steps", "Optimizer steps planned."),
        LOSS("finetune_trainer_loss", "Training loss over the last logging window."),
        TOKENS_PER_SECOND("finetune_trainer_tokens_per_second", "Training throughput in tokens per second."),
        LEARNING_RATE("finetune_trainer_learning_rate", "Current learning rate.");

        public final String metricName;
        public final String help;

        Gauge(String metricName, String help) {
            this.metricName = metricName;
            this.help = help;
        }
    }

    private final double[] values = new double[Gauge.values().length];

    public TrainerGauges() {
        Arrays.fill(values, Double.NaN);   // NaN = not measured yet (Prometheus convention)
    }

    @Override
    public void report(Progress p) {
        if (p == null) {
            return;
        }
        synchronized (values) {
            set(Gauge.STEP, p.step == null ? null : p.step.doubleValue());
            set(Gauge.TOTAL_STEPS, p.totalSteps == null ? null : p.totalSteps.doubleValue());
            set(Gauge.LOSS, p.loss);
            set(Gauge.TOKENS_PER_SECOND, p.tokensPerSecond);
            set(Gauge.LEARNING_RATE, p.learningRate);
        }
    }

    public double value(Gauge g) {
        synchronized (values) {
            return values[g.ordinal()];
        }
    }

    /** One consistent snapshot of all gauges, for the Prometheus client's registry. */
    @Override
    public MetricSnapshots collect() {
        double[] snapshot;
        synchronized (values) {
            snapshot = values.clone();
        }
        MetricSnapshots.Builder metrics = MetricSnapshots.builder();
        for (Gauge g : Gauge.values()) {
            metrics.metricSnapshot(GaugeSnapshot.builder().name(g.metricName).help(g.help)
                    .dataPoint(GaugeDataPointSnapshot.builder().value(snapshot[g.ordinal()]).build()).build());
        }
        return metrics.build();
    }

    @Override
    public List<String> getPrometheusNames() {
        return Arrays.stream(Gauge.values()).map(g -> g.metricName).toList();
    }

    @Override
    public void close() {
    }

    private void set(Gauge g, Double v) {
        if (v != null) {
            values[g.ordinal()] = v;
        }
    }
}
