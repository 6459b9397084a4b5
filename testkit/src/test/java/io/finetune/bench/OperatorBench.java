package io.finetune.bench;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.finetune.testkit.ControlPlane;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Operator benchmark for bench/operator.sh (not a unit test): a real kube-apiserver (testkit ControlPlane, no controllers, so
 * nothing but the operator acts), the committed CRD (CEL rules stripped for 1.20, as the e2e module does), and the packaged
 * operator run as its own process with an admin kubeconfig. First fills TOTAL - N FineTuneJobs (as fast as the bench creates
 * them), then measures, for N more created at RATE per second (so at TOTAL jobs in the caches), the time from the create
 * call to the watch event of the Job the operator created for it (owner reference), and samples the operator's heap (Micrometer jvm_memory_used_bytes{area="heap"} from /q/metrics), RSS and CPU,
 * and the operator's API requests ({@link ApiRequests}: kube-apiserver's counter less the bench's own) per second during
 * both phases and at idle, and per pass at that scale (passes triggered by touching up to 500 Jobs). The operator build is
 * operator/target/quarkus-app unless OP_JAR names another quarkus-run.jar. Prints Markdown. Args: REPO_ROOT WORK_DIR N TOTAL RATE.
 */
public final class OperatorBench {
    private static final String NS = "bench";
    static final ResourceDefinitionContext FTJ = new ResourceDefinitionContext.Builder().withGroup("finetune.io")
            .withVersion("v1alpha1").withPlural("finetunejobs").withKind("FineTuneJob").withNamespaced(true).build();

    private OperatorBench() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]).toAbsolutePath();
        Path work = Files.createDirectories(Path.of(args[1]).toAbsolutePath());
        int n = Integer.parseInt(args[2]);
        int total = Integer.parseInt(args[3]);
        double rate = Double.parseDouble(args[4]);
        Path crd = stripCel(root.resolve("crds/finetunejobs.finetune.io-v1.yml"), work);
        try (ControlPlane kube = ControlPlane.builder().withCrds(crd).start()) {
            KubernetesClient c = kube.client();
            c.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
            Map<String, Long> jobSeen = new ConcurrentHashMap<>();
            Watch watch = c.batch().v1().jobs().inNamespace(NS).watch(new Watcher<>() {
                @Override
                public void eventReceived(Action action, Job job) {
                    long now = System.nanoTime();
                    for (OwnerReference o : job.getMetadata().getOwnerReferences()) {
                        if ("FineTuneJob".equals(o.getKind())) {
                            jobSeen.putIfAbsent(o.getName(), now);
                        }
                    }
                }

                @Override
                public void onClose(WatcherException cause) {
                }
            });
            Path jar = Path.of(System.getenv().getOrDefault("OP_JAR", root.resolve("operator/target/quarkus-app/quarkus-run.jar").toString()));
            BenchOperator bop = BenchOperator.start(jar, work, kube);
            Process op = bop.process();
            int port = bop.port();
            ApiRequests tally = ApiRequests.tally();
            try {
                Map<String, Double> f0 = ApiRequests.scrape(c);
                Map<String, Long> fm0 = tally.mark();
                long fillStart = System.nanoTime();
                List<String> fill = new ArrayList<>();
                for (int i = n; i < total; i++) {
                    create(c, "fill-" + i);
                    tally.sent("POST finetunejobs");
                    fill.add("fill-" + i);
                }
                awaitJobs(jobSeen, fill, Duration.ofSeconds(Math.max(180, total / 10)));
                double fillSecs = (System.nanoTime() - fillStart) / 1e9;
                Map<String, Double> fillRequests = tally.operatorDelta(f0, ApiRequests.scrape(c), fm0);
                Thread.sleep(5000); // the fill's passes done before the latency phase starts
                Map<String, Double> r0 = ApiRequests.scrape(c);
                Map<String, Long> m0 = tally.mark();
                double cpuStart = cpuSeconds(op.pid());
                long phaseStart = System.nanoTime();
                Map<String, Long> created = new ConcurrentHashMap<>();
                long period = (long) (1e9 / rate);
                for (int i = 0; i < n; i++) {
                    long due = phaseStart + i * period;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    String name = "lat-" + i;
                    created.put(name, System.nanoTime());
                    create(c, name);
                    tally.sent("POST finetunejobs");
                }
                awaitJobs(jobSeen, created.keySet(), Duration.ofSeconds(Math.max(120, n / 10)));
                double latencyPhaseSecs = (System.nanoTime() - phaseStart) / 1e9;
                double latencyCpu = cpuSeconds(op.pid()) - cpuStart;
                Map<String, Double> latencyRequests = tally.operatorDelta(r0, ApiRequests.scrape(c), m0);
                List<Double> ms = new ArrayList<>();
                int missing = 0;
                for (Map.Entry<String, Long> e : created.entrySet()) {
                    Long seen = jobSeen.get(e.getKey());
                    if (seen == null) {
                        missing++;
                    } else {
                        ms.add((seen - e.getValue()) / 1e6);
                    }
                }
                Collections.sort(ms);
                long ftjs = c.genericKubernetesResources(FTJ).inNamespace(NS).list().getItems().size();
                long jobs = c.batch().v1().jobs().inNamespace(NS).list().getItems().size();
                tally.sent("LIST finetunejobs");
                tally.sent("LIST jobs");
                Thread.sleep(5000); // let the work queue drain before the idle sample
                Map<String, Double> i0 = ApiRequests.scrape(c);
                Map<String, Long> im0 = tally.mark();
                double idleCpu0 = cpuSeconds(op.pid());
                long idle0 = System.nanoTime();
                Thread.sleep(10_000);
                double idleSecs = (System.nanoTime() - idle0) / 1e9;
                double idleCpu = (cpuSeconds(op.pid()) - idleCpu0) / idleSecs;
                Map<String, Double> idleRequests = tally.operatorDelta(i0, ApiRequests.scrape(c), im0);
                int touch = Math.min(500, total);
                Map<String, Double> p0 = ApiRequests.scrape(c);
                Map<String, Long> pm0 = tally.mark();
                double passes = bop.touchJobsAndAwaitPasses(c, NS, tally, touch);
                Map<String, Double> passRequests = ApiRequests.withoutLeases(tally.operatorDelta(p0, ApiRequests.scrape(c), pm0));
                double heapBefore = heapBytes(port);
                System.gc(); // no effect on the operator; its heap is sampled as it is (used, not committed)
                long rss = rssBytes(op.pid());
                String load = Files.readString(Path.of("/proc/loadavg")).trim();
                System.out.println("## 3. Operator latency and scale (real kube-apiserver 1.20.2, packaged operator process)");
                System.out.println();
                System.out.printf(Locale.ROOT, "FineTuneJob create call -> Job ADDED watch event (owner reference), %d jobs created at"
                        + " %.0f/s after a fill of %d; operator -Xmx512m, admin kubeconfig, leader election on (fixed at build time in the packaged"
                        + " operator: its Lease renewal is in the request counts), no controllers/nodes (only the operator acts); load"
                        + " average at the end: %s.%n%n", n, rate, total - n, load);
                System.out.println("| measure | value |");
                System.out.println("|---|---:|");
                System.out.printf(Locale.ROOT, "| jobs measured / missing after %d s | %d / %d |%n", Math.max(120, n / 10), ms.size(), missing);
                System.out.printf(Locale.ROOT, "| FineTuneJob -> Job p50 | %s |%n", pct(ms, 0.50));
                System.out.printf(Locale.ROOT, "| FineTuneJob -> Job p95 | %s |%n", pct(ms, 0.95));
                System.out.printf(Locale.ROOT, "| FineTuneJob -> Job max | %s |%n", pct(ms, 1.0));
                System.out.printf(Locale.ROOT, "| operator CPU during the %d-job phase (%.1f s) | %.1f CPU-s (%.0f%% of one core) |%n", n,
                        latencyPhaseSecs, latencyCpu, 100 * latencyCpu / latencyPhaseSecs);
                if (total > n) {   // OP_TOTAL = OP_JOBS: every job is in the latency phase, there is no fill
                    System.out.printf(Locale.ROOT, "| fill of %d FineTuneJobs before the latency phase (create + Jobs seen) | %.1f s |%n", total - n, fillSecs);
                }
                System.out.printf(Locale.ROOT, "| FineTuneJobs / Jobs existing | %d / %d |%n", ftjs, jobs);
                System.out.printf(Locale.ROOT, "| operator heap used with %d FineTuneJobs (jvm_memory_used_bytes, area=heap) | %s |%n",
                        ftjs, heapBefore < 0 ? "NOT MEASURED (no /q/metrics)" : String.format(Locale.ROOT, "%.1f MiB",
                                heapBefore / (1 << 20)));
                System.out.printf(Locale.ROOT, "| operator RSS | %.1f MiB |%n", rss / 1048576.0);
                System.out.printf(Locale.ROOT, "| operator CPU idle with %d FineTuneJobs (10 s window) | %.1f%% of one core |%n", ftjs,
                        100 * idleCpu);
                System.out.printf(Locale.ROOT, "| operator API requests per second during the %d-job phase | %.1f (%s) |%n", n,
                        ApiRequests.sum(latencyRequests) / latencyPhaseSecs, ApiRequests.describe(latencyRequests, latencyPhaseSecs));
                if (total > n) {
                    System.out.printf(Locale.ROOT, "| operator API requests per second during the fill of %d | %.1f (%s) |%n", total - n,
                            ApiRequests.sum(fillRequests) / fillSecs, ApiRequests.describe(fillRequests, fillSecs));
                }
                System.out.printf(Locale.ROOT, "| operator API requests per second at idle with %d FineTuneJobs | %.2f (%s) |%n", ftjs,
                        ApiRequests.sum(idleRequests) / idleSecs, ApiRequests.describe(idleRequests, idleSecs));
                System.out.printf(Locale.ROOT, "| operator API requests per pass at %d FineTuneJobs (%d Jobs touched, %.0f passes; Lease renewals left out) | %.2f (%s) |%n",
                        ftjs, touch, passes, passes > 0 ? ApiRequests.sum(passRequests) / passes : Double.NaN,
                        passes > 0 ? ApiRequests.describe(passRequests, passes) : "no pass ran");
                System.out.println();
            } finally {
                watch.close();
                bop.close();
            }
        }
    }

    private static String pct(List<Double> sorted, double q) {
        if (sorted.isEmpty()) {
            return "NOT MEASURED";
        }
        int i = Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1);
        return String.format(Locale.ROOT, "%.0f ms", sorted.get(Math.max(0, i)));
    }

    static void create(KubernetesClient c, String name) {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s, namespace: %s}
                spec:
                  model: {source: "file:///models/base"}
                  dataset: {source: "file:///data/train.jsonl", format: prompt-completion}
                  method: {type: LoRA}
                  training: {maxSteps: 10}
                  output: {destination: "file:///out/%s"}
                  preflight: Skip
                """.formatted(name, NS, name);
        GenericKubernetesResource r = c.genericKubernetesResources(FTJ)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        c.genericKubernetesResources(FTJ).inNamespace(NS).resource(r).create();
    }

    private static void awaitJobs(Map<String, Long> seen, java.util.Collection<String> names, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !seen.keySet().containsAll(names)) {
            Thread.sleep(50);
        }
    }

    /** utime + stime of the process from /proc (clock ticks of 100 Hz on Linux). */
    private static double cpuSeconds(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    private static long rssBytes(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    /** Sum of jvm_memory_used_bytes{area="heap",...} from the operator's Prometheus endpoint; -1 when unavailable. */
    private static double heapBytes(int port) {
        try {
            String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/q/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
            double sum = 0;
            boolean any = false;
            for (String line : body.split("\n")) {
                if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    any = true;
                }
            }
            return any ? sum : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    /** The CRD without x-kubernetes-validations (Kubernetes 1.20 rejects them), as the e2e module's Repo.crdFor120. */
    static Path stripCel(Path crd, Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        int skip = -1;
        for (String line : Files.readAllLines(crd)) {
            int indent = line.length() - line.stripLeading().length();
            if (skip >= 0) {
                if (indent > skip || (indent == skip && line.stripLeading().startsWith("- "))) {
                    continue;
                }
                skip = -1;
            }
            if (line.stripLeading().startsWith("x-kubernetes-validations:")) {
                skip = indent;
                continue;
            }
            out.add(line);
        }
        return Files.write(dir.resolve("crd-k8s120.yml"), out);
    }
}
