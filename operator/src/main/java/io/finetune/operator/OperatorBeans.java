package io.finetune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.interceptor.Interceptor;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Constructor wiring of the operator's parts (no field injection). */
@ApplicationScoped
public class OperatorBeans {
    @Produces
    @Singleton
    OperatorMetrics metrics(MeterRegistry registry) {
        return new OperatorMetrics(registry);
    }

    @Produces
    @Singleton
    FineTuneJobController controller(KubernetesClient client, OperatorConfig config, OperatorMetrics metrics) {
        Clock clock = Clock.systemUTC();
        return new FineTuneJobController(client, config.settings(), new StatusWriter(client), new EventRecorder(client, clock),
                metrics, clock);
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
