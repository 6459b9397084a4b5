package io.finetune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.operator.metrics.OperatorMetrics;
import io.finetune.operator.desired.DesiredResources;
import io.finetune.operator.observe.CachedReads;
import io.finetune.operator.observe.LiveReads;
import io.finetune.operator.observe.Observer;
import io.finetune.operator.status.EventRecorder;
import io.finetune.operator.status.StatusRecorder;
import io.finetune.operator.status.StatusWriter;
import io.finetune.operator.validate.SpecChecks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;
import java.time.Clock;

/**
 * Constructor wiring of the operator's parts (no field injection): the controller's collaborators (observer, validator,
 * desired resources, status recorder), metrics and leader election.
 */
@ApplicationScoped
public class OperatorBeans {
    @Produces
    @Singleton
    OperatorMetrics metrics(MeterRegistry registry) {
        return new OperatorMetrics(registry);
    }

    /**
     * JOSDK's reconcile metrics without per-resource meters. QOSDK's default collects timers and counters per FineTuneJob
     * (name and namespace tags, HdrHistograms each): at 5,000 jobs that is some 57,000 meters, a /q/metrics body of
     * 370,000 samples, and a 512 MiB heap exhausted by the scrape (measured with bench/operator.sh, OP_TOTAL=5000). The
     * operator's own figures per phase are in OperatorMetrics.
     */
    @Produces
    @Singleton
    Metrics josdkMetrics(MeterRegistry registry) {
        return MicrometerMetrics.withoutPerResourceMetrics(registry);
    }

    @Produces
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }

    /** Filled by the controller's event sources (FineTuneJobController.prepareEventSources) before the first pass. */
    @Produces
    @Singleton
    CachedReads reads(KubernetesClient client) {
        return new CachedReads(new LiveReads(client));
    }

    @Produces
    @Singleton
    Observer observer(CachedReads reads, KubernetesClient client) {
        return new Observer(reads, client);
    }

    @Produces
    @Singleton
    SpecChecks validator(OperatorConfig config) {
        return new SpecChecks(config.settings());
    }

    @Produces
    @Singleton
    EventRecorder events(KubernetesClient client, Clock clock) {
        return new EventRecorder(client, clock);
    }

    @Produces
    @Singleton
    DesiredResources desired(KubernetesClient client, CachedReads reads, OperatorConfig config, EventRecorder events,
                             OperatorMetrics metrics, Clock clock) {
        return new DesiredResources(client, reads, config.settings(), events, metrics, clock);
    }

    @Produces
    @Singleton
    StatusRecorder status(KubernetesClient client, EventRecorder events) {
        return new StatusRecorder(new StatusWriter(client), events);
    }

    @Produces
    @Singleton
    LeaderLease leaderLease(KubernetesClient client, OperatorConfig config) {
        return new LeaderLease(client, config.leaderElection(), LeaderLease.systemExit());
    }

    /** Null (dependent scope allows it) turns leader election off: QOSDK then passes JOSDK no configuration. */
    @Produces
    @Dependent
    LeaderElectionConfiguration leaderElection(LeaderLease lease) {
        return lease.configuration();
    }

    /**
     * Runs before QOSDK's own ShutdownEvent observer (default priority), which calls Operator.stop(): from then on, losing
     * the lease is the shutdown itself, not a reason to exit.
     */
    void onShutdown(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event, LeaderLease lease) {
        lease.shuttingDown();
    }
}
