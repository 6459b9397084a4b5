package io.finetune.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * kube-apiserver's own request counter ({@code apiserver_request_total} on /metrics, by verb, resource and subresource)
 * for the kinds the operator touches, and the bench's tally of the requests it sent itself, so that what is left is the
 * operator's: the 1.20 counter has no client label, and the bench (playing users, the Job controller and the kubelet)
 * talks to the same server.
 */
final class ApiRequests {
    /** What the operator reads or writes (FineTuneJobs and their owned objects); the server's own traffic is left out. */
    static final Set<String> KINDS = Set.of("finetunejobs", "jobs", "pods", "configmaps", "serviceaccounts", "roles",
            "rolebindings", "events", "nodes", "leases");
    private static final Pattern LINE = Pattern.compile("^apiserver_request_total\\{(.*)} ([0-9.eE+]+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    /** Requests the bench sent, by the key the server counts them under ("VERB resource[/subresource]"). */
    private final Map<String, LongAdder> mine = new ConcurrentHashMap<>();

    private ApiRequests() {
    }

    static ApiRequests tally() {
        return new ApiRequests();
    }

    void sent(String key) {
        mine.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    /** A snapshot of the server's counter: "VERB resource[/sub]" -> count (all response codes together). */
    static Map<String, Double> scrape(KubernetesClient c) {
        Map<String, Double> out = new TreeMap<>();
        for (String line : c.raw(c.getMasterUrl().toString().replaceAll("/$", "") + "/metrics").split("\n")) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            String resource = labels.getOrDefault("resource", "");
            if (!KINDS.contains(resource)) {
                continue;
            }
            String sub = labels.getOrDefault("subresource", "");
            out.merge(labels.get("verb") + " " + resource + (sub.isEmpty() ? "" : "/" + sub), Double.parseDouble(m.group(2)), Double::sum);
        }
        return out;
    }

    /**
     * The operator's requests between two snapshots: the server's delta less what the bench counted since {@code mark}
     * (a copy of this tally taken with the first snapshot).
     */
    Map<String, Double> operatorDelta(Map<String, Double> before, Map<String, Double> after, Map<String, Long> mark) {
        Map<String, Double> out = new TreeMap<>();
        for (Map.Entry<String, Double> e : after.entrySet()) {
            double d = e.getValue() - before.getOrDefault(e.getKey(), 0.0)
                    - (count(e.getKey()) - mark.getOrDefault(e.getKey(), 0L));
            if (d > 0.5) {
                out.put(e.getKey(), d);
            }
        }
        return out;
    }

    Map<String, Long> mark() {
        Map<String, Long> out = new TreeMap<>();
        mine.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    private long count(String key) {
        LongAdder a = mine.get(key);
        return a == null ? 0 : a.sum();
    }

    /** Without the leader-election Lease renewals (GET + PATCH every 2 s whatever happens): for figures per pass. */
    static Map<String, Double> withoutLeases(Map<String, Double> delta) {
        Map<String, Double> out = new TreeMap<>(delta);
        out.keySet().removeIf(k -> k.endsWith(" leases"));
        return out;
    }

    static double sum(Map<String, Double> delta) {
        return delta.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** "GET jobs 3, LIST pods 3" (largest first). */
    static String describe(Map<String, Double> delta, double per) {
        StringBuilder sb = new StringBuilder();
        delta.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).forEach(e -> {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            double v = e.getValue() / per;
            sb.append(e.getKey()).append(' ').append(v == Math.rint(v) ? String.format(java.util.Locale.ROOT, "%.0f", v)
                    : String.format(java.util.Locale.ROOT, "%.2f", v));
        });
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
