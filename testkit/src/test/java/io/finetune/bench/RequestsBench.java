package io.finetune.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.testkit.ControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * API requests the operator sends, counted by kube-apiserver ({@code apiserver_request_total}, bench's own requests
 * subtracted: {@link ApiRequests}), for one or more operator builds side by side (bench/operator.sh passes the build
 * before the informer-cache change and the current one). Each build gets a fresh control plane and:
 * <ol>
 *   <li>LIFECYCLES FineTuneJobs run one after another from create to Succeeded ({@link FakeRun}): requests per lifecycle;</li>
 *   <li>IDLE_JOBS more FineTuneJobs (no pods), then one pass per Job triggered by touching the Job: requests per pass
 *       of a job that has nothing to do;</li>
 *   <li>a 10 s window with nothing happening: requests per second at idle.</li>
 * </ol>
 * Prints a Markdown table. Args: REPO_ROOT WORK_DIR LIFECYCLES IDLE_JOBS label=quarkus-run.jar...
 */
public final class RequestsBench {
    private static final String NS = "bench";

    private RequestsBench() {
    }

    record Figures(Map<String, Double> lifecycle, int lifecycles, List<String> phases, Map<String, Double> perPass, double passes,
                   Map<String, Double> idle, double idleSecs) {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]).toAbsolutePath();
        Path work = Files.createDirectories(Path.of(args[1]).toAbsolutePath());
        int lifecycles = Integer.parseInt(args[2]);
        int idleJobs = Integer.parseInt(args[3]);
        Map<String, Figures> out = new LinkedHashMap<>();
        for (int i = 4; i < args.length; i++) {
            String label = args[i].substring(0, args[i].indexOf('='));
            Path jar = Path.of(args[i].substring(args[i].indexOf('=') + 1)).toAbsolutePath();
            Path dir = Files.createDirectories(work.resolve("requests-" + label));
            out.put(label, measure(root, dir, jar, lifecycles, idleJobs));
            System.err.println("requests measured for " + label);
        }
        print(out);
    }

    static Figures measure(Path root, Path work, Path jar, int lifecycles, int idleJobs) throws Exception {
        Path crd = OperatorBench.stripCel(root.resolve("crds/finetunejobs.finetune.io-v1.yml"), work);
        try (ControlPlane kube = ControlPlane.builder().withCrds(crd).start()) {
            KubernetesClient c = kube.client();
            c.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
            try (BenchOperator op = BenchOperator.start(jar, work, kube)) {
                Thread.sleep(3000); // informers' initial LIST/WATCH done before the first window
                ApiRequests tally = ApiRequests.tally();
                FakeRun run = new FakeRun(c, tally, OperatorBench.FTJ);
                Map<String, Double> s0 = ApiRequests.scrape(c);
                Map<String, Long> m0 = tally.mark();
                List<String> phases = new ArrayList<>();
                for (int i = 0; i < lifecycles; i++) {
                    OperatorBench.create(c, "life-" + i);
                    tally.sent("POST finetunejobs");
                    phases.add(run.run(NS, "life-" + i, Duration.ofSeconds(120)));
                }
                Thread.sleep(3000);
                Map<String, Double> s1 = ApiRequests.scrape(c);
                Map<String, Double> lifecycle = tally.operatorDelta(s0, s1, m0);

                for (int i = 0; i < idleJobs; i++) {
                    OperatorBench.create(c, "idle-" + i);
                    tally.sent("POST finetunejobs");
                }
                BenchOperator.awaitJobCount(c, NS, tally, lifecycles + idleJobs, Duration.ofSeconds(120));
                Thread.sleep(3000);
                Map<String, Double> s2 = ApiRequests.scrape(c);
                Map<String, Long> m2 = tally.mark();
                double passes = op.touchJobsAndAwaitPasses(c, NS, tally, lifecycles + idleJobs);
                Map<String, Double> s3 = ApiRequests.scrape(c);
                Map<String, Double> perPass = ApiRequests.withoutLeases(tally.operatorDelta(s2, s3, m2));

                Map<String, Long> m4 = tally.mark();
                Map<String, Double> s4 = ApiRequests.scrape(c);
                long t0 = System.nanoTime();
                Thread.sleep(10_000);
                Map<String, Double> s5 = ApiRequests.scrape(c);
                double secs = (System.nanoTime() - t0) / 1e9;
                return new Figures(lifecycle, lifecycles, phases, perPass, passes, tally.operatorDelta(s4, s5, m4), secs);
            }
        }
    }

    private static void print(Map<String, Figures> out) {
        System.out.println("API requests the operator sends (kube-apiserver `apiserver_request_total` by verb and resource,"
                + " the bench's own requests subtracted; verbs as the server counts them: GET = one object, LIST, WATCH,"
                + " POST = create, PATCH):");
        System.out.println();
        StringBuilder head = new StringBuilder("| measure |");
        StringBuilder rule = new StringBuilder("|---|");
        out.keySet().forEach(k -> {
            head.append(' ').append(k).append(" |");
            rule.append("---|");
        });
        System.out.println(head);
        System.out.println(rule);
        row(out, "one FineTuneJob lifecycle, create -> Succeeded (mean of %s; phases reached: %s): total", f -> fmt(ApiRequests.sum(f.lifecycle) / f.lifecycles));
        row(out, "... by verb and resource, per lifecycle", f -> ApiRequests.describe(f.lifecycle, f.lifecycles));
        row(out, "one pass of a job with nothing to do (passes triggered: %s; Lease renewals left out): total", f -> fmt(ApiRequests.sum(f.perPass) / f.passes));
        row(out, "... by verb and resource, per pass", f -> ApiRequests.describe(f.perPass, f.passes));
        row(out, "idle (nothing changes, 10 s window): requests per second", f -> String.format(Locale.ROOT, "%.2f (%s)",
                ApiRequests.sum(f.idle) / f.idleSecs, ApiRequests.describe(f.idle, f.idleSecs)));
        System.out.println();
    }

    private static void row(Map<String, Figures> out, String label, java.util.function.Function<Figures, String> cell) {
        Figures any = out.values().iterator().next();
        String l = label.contains("phases") ? String.format(label, any.lifecycles, String.join("/", new java.util.TreeSet<>(any.phases)))
                : label.contains("passes triggered") ? String.format(label, out.values().stream()
                .map(f -> fmt(f.passes)).reduce((a, b) -> a + " / " + b).orElse("")) : label;
        StringBuilder sb = new StringBuilder("| ").append(l).append(" |");
        out.values().forEach(f -> sb.append(' ').append(cell.apply(f)).append(" |"));
        System.out.println(sb);
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
