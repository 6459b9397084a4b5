package io.finetune.trainer.pod;

import io.finetune.api.v1alpha1.Progress;
import java.util.Arrays;
import java.util.List;

/**
 * The trainer's Prometheus gauges, fed by the same progress reports as the status patch (so the two never disagree).
 * A report and a scrape each take one short lock, so a scrape never shows the step of one report with the loss of another.
 */
public final class TrainerGauges implements ProgressSink {

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

    /** Prometheus text exposition format 0.0.4. */
    public String exposition() {
        double[] snapshot;
        synchronized (values) {
            snapshot = values.clone();
        }
        StringBuilder sb = new StringBuilder(512);
        for (Gauge g : List.of(Gauge.values())) {
            sb.append("# HELP ").append(g.metricName).append(' ').append(g.help).append('\n');
            sb.append("# TYPE ").append(g.metricName).append(" gauge\n");
            sb.append(g.metricName).append(' ').append(format(snapshot[g.ordinal()])).append('\n');
        }
        return sb.toString();
    }

    @Override
    public void close() {
    }

    private void set(Gauge g, Double v) {
        if (v != null) {
            values[g.ordinal()] = v;
        }
    }

    private static String format(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);   // Prometheus accepts Java's notation, e.g. 1.5E-4
    }
}
