package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Where the Lease lives, and what happens to it when leadership ends: released at shutdown (so a standby takes over at
 * once), exit when it is lost while running. The real SIGTERM/SIGKILL behaviour of the packaged operator is in e2e's
 * OperatorLeaderElectionTest.
 */
@EnableKubernetesMockClient(crud = true)
class LeaderLeaseTest {
    static KubernetesClient client;

    final AtomicInteger exits = new AtomicInteger();

    record Settings(String leaseName, Optional<String> leaseNamespace, Optional<String> identity, Duration leaseDuration,
            Duration renewDeadline, Duration retryPeriod) implements OperatorConfig.LeaderElection {
        static Settings of(String namespace, String identity) {
            return new Settings("finetune-operator-lease", Optional.ofNullable(namespace), Optional.ofNullable(identity),
                    Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
        }
    }

    @BeforeEach
    void noLease() {
        client.resources(Lease.class).inAnyNamespace().delete();
    }

    LeaderLease lease(KubernetesClient c, String namespace, String identity) {
        return new LeaderLease(c, Settings.of(namespace, identity), exits::incrementAndGet);
    }

    @Test
    void theConfiguredNamespaceWinsOverTheClients() {
        LeaderElectionConfiguration cfg = lease(client, "ops", "me").configuration();
        assertThat(cfg.getLeaseNamespace()).contains("ops");
        assertThat(cfg.getIdentity()).contains("me");
        assertThat(cfg.isExitOnStopLeading()).as("JOSDK's System.exit deadlocks in the shutdown hook").isFalse();
    }

    @Test
    void withoutAConfiguredNamespaceTheKubeconfigContextsNamespaceHoldsTheLease() {
        try (KubernetesClient c = clientWithNamespace("team-a")) {
            assertThat(lease(c, null, "me").configuration().getLeaseNamespace()).contains("team-a");
        }
    }

    @Test
    void withNoNamespaceAnywhereLeaderElectionIsOffInsteadOfAStartFailure() {
        try (KubernetesClient c = clientWithNamespace(null)) {
            assertThat(lease(c, null, "me").configuration()).isNull();
            assertThat(lease(c, " ", "me").configuration()).isNull();
        }
    }

    @Test
    void twoReplicasWithoutAConfiguredIdentityGetDistinctOnes() {
        String a = lease(client, "ops", null).identity();
        String b = lease(client, "ops", null).identity();
        assertThat(a).isNotBlank().isNotEqualTo(b);
    }

    @Test
    void atShutdownTheLeaderReleasesItsLeaseAndDoesNotExit() {
        holdLease("ops", "me", 7);
        LeaderLease lease = lease(client, "ops", "me");
        lease.configuration();
        lease.shuttingDown();
        lease.stoppedLeading();

        Lease stored = client.resources(Lease.class).inNamespace("ops").withName("finetune-operator-lease").get();
        assertThat(stored.getSpec().getHolderIdentity()).isEmpty();
        assertThat(stored.getSpec().getLeaseDurationSeconds()).isEqualTo(1);
        assertThat(stored.getSpec().getLeaseTransitions()).isEqualTo(7);
        assertThat(exits).hasValue(0);
    }

    @Test
    void atShutdownALeaseSomeoneElseHoldsIsLeftAlone() {
        holdLease("ops", "other", 3);
        LeaderLease lease = lease(client, "ops", "me");
        lease.configuration();
        lease.shuttingDown();
        lease.stoppedLeading();

        Lease stored = client.resources(Lease.class).inNamespace("ops").withName("finetune-operator-lease").get();
        assertThat(stored.getSpec().getHolderIdentity()).isEqualTo("other");
        assertThat(stored.getSpec().getLeaseDurationSeconds()).isEqualTo(15);
        assertThat(exits).hasValue(0);
    }

    @Test
    void leadershipLostWhileRunningEndsTheProcessAndKeepsTheLease() {
        holdLease("ops", "other", 3);
        LeaderLease lease = lease(client, "ops", "me");
        lease.configuration();
        lease.stoppedLeading();

        assertThat(exits).hasValue(1);
        assertThat(client.resources(Lease.class).inNamespace("ops").withName("finetune-operator-lease").get()
                .getSpec().getHolderIdentity()).isEqualTo("other");
    }

    private static void holdLease(String namespace, String holder, int transitions) {
        ZonedDateTime now = ZonedDateTime.now();
        client.resources(Lease.class).inNamespace(namespace).resource(new LeaseBuilder().withNewMetadata()
                .withName("finetune-operator-lease").withNamespace(namespace).endMetadata()
                .withNewSpec().withHolderIdentity(holder).withLeaseDurationSeconds(15).withAcquireTime(now)
                .withRenewTime(now).withLeaseTransitions(transitions).endSpec().build()).create();
    }

    private static KubernetesClient clientWithNamespace(String namespace) {
        Config cfg = new ConfigBuilder(Config.empty()).withMasterUrl(client.getMasterUrl().toString())
                .withNamespace(namespace).build();
        return new KubernetesClientBuilder().withConfig(cfg).build();
    }
}
