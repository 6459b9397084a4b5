package io.finetune.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.testkit.ControlPlane;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged operator as its own process for the benchmarks (admin kubeconfig, all namespaces, no leader election), and
 * what the benches read from it and do to trigger its passes.
 */
record BenchOperator(Process process, int port, Path log) implements AutoCloseable {
    static BenchOperator start(Path jar, Path work, ControlPlane kube) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = work.resolve("operator.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-jar", jar.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).directory(work.toFile());
        pb.environment().put("KUBECONFIG", kube.writeKubeconfig(work.resolve("admin.kubeconfig")).toString());
        pb.environment().put("QUARKUS_OPERATOR_SDK_CONTROLLERS_FINETUNEJOB_NAMESPACES", "JOSDK_ALL_NAMESPACES");
        pb.environment().put("QUARKUS_OPERATOR_SDK_ACTIVATE_LEADER_ELECTION_FOR_PROFILES", "none");
        pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
        BenchOperator op = new BenchOperator(pb.start(), port, log);
        op.awaitStarted();
        return op;
    }

    private void awaitStarted() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            if (text.contains(" started in ")) {
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("operator exited with " + process.exitValue() + ":\n" + text);
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("operator did not start within 120 s:\n" + Files.readString(log));
    }

    /** The operator's /q/metrics body, or "" when it does not answer. */
    String metrics() {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return "";
        }
    }

    /** finetune_reconciles_total: the passes run so far (-1 when unreadable). */
    double reconciles() {
        for (String line : metrics().split("\n")) {
            if (line.startsWith("finetune_reconciles_total")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return -1;
    }

    /**
     * Triggers one pass per Job without changing anything the operator reads: an annotation on each Job (PUT, a verb the
     * operator never sends for Jobs), then waits until that many passes ran. Returns the passes counted.
     */
    double touchJobsAndAwaitPasses(KubernetesClient c, String ns, ApiRequests tally, int max) throws InterruptedException {
        double before = reconciles();
        var jobs = c.batch().v1().jobs().inNamespace(ns).list().getItems();
        tally.sent("LIST jobs");
        int touched = 0;
        for (var job : jobs.subList(0, Math.min(max, jobs.size()))) {
            job.getMetadata().setAnnotations(new java.util.HashMap<>(job.getMetadata().getAnnotations() == null ? Map.of()
                    : job.getMetadata().getAnnotations()));
            job.getMetadata().getAnnotations().put("bench.finetune.io/touched", Long.toString(System.nanoTime()));
            c.batch().v1().jobs().inNamespace(ns).resource(job).update();
            tally.sent("PUT jobs");
            touched++;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (reconciles() - before < touched && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Thread.sleep(2000); // passes still writing after the counter moved
        return reconciles() - before;
    }

    /** Waits until {@code n} Jobs exist in {@code ns} (polls a LIST, counted as the bench's). */
    static void awaitJobCount(KubernetesClient c, String ns, ApiRequests tally, int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<?> jobs = c.batch().v1().jobs().inNamespace(ns).list().getItems();
            tally.sent("LIST jobs");
            if (jobs.size() >= n) {
                return;
            }
            Thread.sleep(200);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
