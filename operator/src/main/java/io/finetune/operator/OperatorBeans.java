package io.finetune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
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
    LeaderElectionConfiguration leaderElection(OperatorConfig config) {
        OperatorConfig.LeaderElection le = config.leaderElection();
        return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(le.leaseName())
                .withLeaseNamespace(le.leaseNamespace().orElse(null))
                .withLeaseDuration(le.leaseDuration())
                .withRenewDeadline(le.renewDeadline())
                .withRetryPeriod(le.retryPeriod())
                .build();
    }
}
