package io.finetune.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * The operator's leader election, configured for JOSDK 5.2.1's {@code LeaderElectionManager} with two behaviours that
 * version lacks.
 *
 * <p>Shutdown: JOSDK's own "exit on stop leading" calls {@code System.exit} from {@code onStopLeading}, which
 * {@code Operator.stop()} triggers from the JVM shutdown hook (QOSDK stops the operator on Quarkus' ShutdownEvent); the
 * hook thread then blocks on the JVM's shutdown lock forever and SIGTERM never ends the process (java-operator-sdk #1614,
 * #3376; fixed upstream by PR #3383, "no System.exit once stop() was called"). Here JOSDK's exit is off and this class's
 * callback decides: once the application is {@link #shuttingDown() shutting down} it releases the Lease (JOSDK builds
 * fabric8's elector with releaseOnCancel=false, so nothing else would) and returns, so a standby takes over at its next
 * retry instead of waiting for the lease to expire. Leadership lost while running (renew deadline passed, another holder
 * seen) still ends the process, as JOSDK intends, so two replicas never reconcile at once; the exit runs on its own thread
 * so that it cannot block the elector's callback.
 *
 * <p>Namespace: the Lease lives in {@code lease-namespace} if set, else in the client's namespace (the kubeconfig
 * context's namespace, KUBERNETES_NAMESPACE, or the pod's ServiceAccount namespace in a cluster). When none is known, as
 * with a kubeconfig context naming no namespace, the operator runs without leader election and says so in one log line,
 * instead of JOSDK's "Lease namespace is not set and cannot be inferred" start failure.
 */
public final class LeaderLease {
    private static final Logger LOG = Logger.getLogger(LeaderLease.class);
    /** How long a release may take at shutdown: an unreachable API server must not hold SIGTERM up. */
    static final Duration RELEASE_TIMEOUT = Duration.ofSeconds(3);

    private final KubernetesClient client;
    private final OperatorConfig.LeaderElection settings;
    private final Runnable exitOnLostLease;
    private final String identity;
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    private volatile String namespace;

    LeaderLease(KubernetesClient client, OperatorConfig.LeaderElection settings, Runnable exitOnLostLease) {
        this.client = client;
        this.settings = settings;
        this.exitOnLostLease = exitOnLostLease;
        this.identity = settings.identity().filter(s -> !s.isBlank()).orElseGet(LeaderLease::defaultIdentity);
    }

    /** Exits the JVM with status 1 from a new thread (never from the elector's callback or a shutdown hook). */
    static Runnable systemExit() {
        return () -> {
            Thread exit = new Thread(() -> System.exit(1), "finetune-lost-lease-exit");
            exit.start();
        };
    }

    /** Pod name (HOSTNAME) or host name, plus a random suffix so that two processes on one host never share it. */
    private static String defaultIdentity() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "finetune-operator";
            }
        }
        return host + "_" + UUID.randomUUID().toString().substring(0, 8);
    }

    String identity() {
        return identity;
    }

    /** The Lease's namespace: the configured one, else the client's; empty when neither is known. */
    Optional<String> resolveNamespace() {
        return settings.leaseNamespace().filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(client.getConfiguration().getNamespace()).filter(s -> !s.isBlank()));
    }

    /** JOSDK's configuration, or null (leader election off, logged) when no namespace is known. */
    LeaderElectionConfiguration configuration() {
        Optional<String> ns = resolveNamespace();
        if (ns.isEmpty()) {
            LOG.warn("Leader election is off: no namespace for the Lease (set finetune.operator.leader-election.lease-namespace"
                    + " / FINETUNE_OPERATOR_LEADER_ELECTION_LEASE_NAMESPACE, or a namespace in the kubeconfig context);"
                    + " run a single replica");
            return null;
        }
        namespace = ns.get();
        LOG.infof("Leader election on: Lease %s/%s, identity %s", namespace, settings.leaseName(), identity);
        return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(settings.leaseName())
                .withLeaseNamespace(namespace)
                .withIdentity(identity)
                .withLeaseDuration(settings.leaseDuration())
                .withRenewDeadline(settings.renewDeadline())
                .withRetryPeriod(settings.retryPeriod())
                .withLeaderCallbacks(new LeaderCallbacks(
                        () -> LOG.infof("Leading (identity %s): reconciling", identity),
                        this::stoppedLeading,
                        leader -> { }))
                .withExitOnStopLeading(false)
                .build();
    }

    /** Called before JOSDK's Operator.stop() runs (see OperatorBeans' ShutdownEvent observer). */
    void shuttingDown() {
        shuttingDown.set(true);
    }

    void stoppedLeading() {
        if (shuttingDown.get()) {
            release();
            return;
        }
        LOG.errorf("Lost the Lease %s/%s (identity %s): exiting so that only one replica reconciles", namespace,
                settings.leaseName(), identity);
        exitOnLostLease.run();
    }

    /**
     * Hands the Lease over as fabric8's LeaderElector.release() does: holder emptied, 1 s duration, same transition
     * count; only when this replica still holds it. Bounded by {@link #RELEASE_TIMEOUT}.
     */
    void release() {
        if (namespace == null) {
            return;
        }
        CompletableFuture<Boolean> done = CompletableFuture.supplyAsync(() -> {
            LeaseLock lock = new LeaseLock(namespace, settings.leaseName(), identity);
            LeaderElectionRecord current = lock.get(client);
            if (current == null || !identity.equals(current.getHolderIdentity())) {
                return false;
            }
            ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
            lock.update(client, new LeaderElectionRecord("", Duration.ofSeconds(1), now, now,
                    current.getLeaderTransitions()));
            return true;
        });
        try {
            if (done.get(RELEASE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.infof("Released the Lease %s/%s (identity %s)", namespace, settings.leaseName(), identity);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e.getCause() instanceof KubernetesClientException k ? k : e;
            LOG.warnf("Could not release the Lease %s/%s at shutdown (%s): a standby takes over when it expires",
                    namespace, settings.leaseName(), cause.toString());
        }
    }
}
