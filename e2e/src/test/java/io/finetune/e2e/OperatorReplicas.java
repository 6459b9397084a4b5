package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.finetune.testkit.ControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Packaged operator replicas sharing one Lease (finetune-system/finetune-operator-lease) with test-sized durations, and
 * what a test reads of them: who holds the Lease, and each replica's own Prometheus counters.
 */
final class OperatorReplicas {
    static final String LEASE = "finetune-operator-lease";
    private static final Pattern HTTP_PORT = Pattern.compile("Listening on: http://127\\.0\\.0\\.1:(\\d+)");

    private final ControlPlane kube;
    private final Path work;
    private final Duration leaseDuration;
    private final Duration renewDeadline;
    private final Duration retryPeriod;

    OperatorReplicas(ControlPlane kube, Path work, Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        this.kube = kube;
        this.work = work;
        this.leaseDuration = leaseDuration;
        this.renewDeadline = renewDeadline;
        this.retryPeriod = retryPeriod;
    }

    Duration leaseDuration() {
        return leaseDuration;
    }

    Duration retryPeriod() {
        return retryPeriod;
    }

    /** Starts the named replicas in parallel (each start waits for Quarkus' "started in"). */
    List<OperatorProcess> start(Map<String, String> extraEnv, String... names) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(names.length);
        try {
            List<Future<OperatorProcess>> starts = new java.util.ArrayList<>();
            for (String name : names) {
                Map<String, String> env = new HashMap<>(Map.of(
                        "FINETUNE_OPERATOR_LEADER_ELECTION_LEASE_DURATION", leaseDuration.toSeconds() + "s",
                        "FINETUNE_OPERATOR_LEADER_ELECTION_RENEW_DEADLINE", renewDeadline.toSeconds() + "s",
                        "FINETUNE_OPERATOR_LEADER_ELECTION_RETRY_PERIOD", retryPeriod.toSeconds() + "s"));
                env.putAll(extraEnv);
                starts.add(pool.submit((Callable<OperatorProcess>) () -> OperatorProcess.start(kube, work, name, env)));
            }
            List<OperatorProcess> out = new java.util.ArrayList<>();
            for (Future<OperatorProcess> f : starts) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdown();
        }
    }

    OperatorProcess start(String name) throws Exception {
        return start(Map.of(), name).get(0);
    }

    /** The Lease's holder identity ("" once released), or null while there is no Lease. */
    String holder() {
        Lease lease = kube.client().resources(Lease.class).inNamespace(OperatorProcess.NAMESPACE).withName(LEASE).get();
        return lease == null || lease.getSpec() == null ? null
                : lease.getSpec().getHolderIdentity() == null ? "" : lease.getSpec().getHolderIdentity();
    }

    /** Waits until {@code op} holds the Lease; returns how long that took from {@code sinceNanos} (System.nanoTime). */
    Duration awaitHolder(OperatorProcess op, long sinceNanos, Duration limit) throws InterruptedException {
        String id = op.leaseIdentity();
        if (id == null) {
            throw new AssertionError("no \"Leader election on\" line in the log of the replica:\n" + op.log());
        }
        await(() -> id.equals(holder()) ? Boolean.TRUE : null, limit, "replica " + id + " to hold the Lease (holder: "
                + holder() + ")");
        return Duration.ofNanos(System.nanoTime() - sinceNanos);
    }

    /** Counter {@code name} (e.g. finetune_jobs_created_total) from the replica's /q/metrics. */
    static double counter(OperatorProcess op, String name) throws Exception {
        Matcher port = HTTP_PORT.matcher(op.log());
        if (!port.find()) {
            throw new AssertionError("no HTTP port in the replica's log:\n" + op.log());
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port.group(1) + "/q/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(r.body());
        if (r.statusCode() != 200 || !m.find()) {
            throw new AssertionError("no " + name + " in /q/metrics (HTTP " + r.statusCode() + ")");
        }
        return Double.parseDouble(m.group(1));
    }

    static <T> T await(Supplier<T> probe, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
