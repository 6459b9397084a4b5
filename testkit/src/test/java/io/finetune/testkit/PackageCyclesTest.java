package io.finetune.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No package of our production code depends, directly or through others, on a package that depends back on it: a newcomer can
 * then read the packages bottom-up. The graph is built from every module's src/main/java (imports and fully-qualified names of
 * io.finetune classes); a cycle fails the test, naming the packages and one file for each edge. A package is sliced at the first
 * level below its module's root package, as ArchUnit's {@code slices().matching("io.finetune.trainer.(*)..")} does: the method
 * variants under {@code method/lora}, {@code method/galore} and {@code method/full} belong to the {@code method} slice (the SPI
 * and its factory, as PEFT's tuners/), and a module's root package (Main, the controller) is a slice of its own.
 */
class PackageCyclesTest {
    private static final List<String> MODULES = List.of("api", "operator", "trainer-image", "testkit");
    private static final List<String> ROOTS = List.of("io.finetune.api", "io.finetune.operator", "io.finetune.trainer",
            "io.finetune.testkit");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");
    /** A reference to one of our classes: its package is everything before the first capitalised segment. */
    private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.finetune(?:\\.[a-z_][\\w]*)*)\\.[A-Z]");

    @Test
    void productionCodeHasNoPackageCycles() throws IOException {
        Map<String, Map<String, String>> graph = new TreeMap<>();
        for (String module : MODULES) {
            Path src = RepoFiles.root().resolve(module).resolve("src/main/java");
            if (!Files.isDirectory(src)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(src)) {
                for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    addEdges(graph, RepoFiles.root().relativize(file).toString(), Files.readString(file));
                }
            }
        }
        assertThat(graph).as("packages read").hasSizeGreaterThan(10);
        assertThat(cycles(graph)).as("package cycles (package -> package: a file making that edge)").isEmpty();
    }

    @Test
    void aCycleIsFound() {
        Map<String, Map<String, String>> graph = new TreeMap<>();
        addEdges(graph, "A.java", "package io.finetune.a;\nimport io.finetune.b.B;\n");
        addEdges(graph, "B.java", "package io.finetune.b;\nclass B { io.finetune.c.C c; }\n");
        addEdges(graph, "C.java", "package io.finetune.c;\nimport static io.finetune.a.A.run;\n");
        addEdges(graph, "D.java", "package io.finetune.d;\nimport io.finetune.a.A;\n");
        assertThat(cycles(graph)).containsExactly(
                "io.finetune.a -> io.finetune.b (A.java), io.finetune.b -> io.finetune.c (B.java), io.finetune.c -> io.finetune.a (C.java)");
    }

    private static void addEdges(Map<String, Map<String, String>> graph, String file, String source) {
        Matcher pkg = PACKAGE.matcher(source);
        if (!pkg.find()) {
            return;
        }
        String from = slice(pkg.group(1));
        Map<String, String> edges = graph.computeIfAbsent(from, k -> new TreeMap<>());
        Matcher ref = REFERENCE.matcher(source);
        while (ref.find()) {
            String to = slice(ref.group(1));
            if (!to.equals(from)) {
                edges.putIfAbsent(to, file);
                graph.computeIfAbsent(to, k -> new TreeMap<>());
            }
        }
    }

    /** The slice a package belongs to: its module root plus one segment (the root itself stays whole). */
    static String slice(String pkg) {
        for (String root : ROOTS) {
            if (pkg.startsWith(root + ".")) {
                int end = pkg.indexOf('.', root.length() + 1);
                return end < 0 ? pkg : pkg.substring(0, end);
            }
        }
        return pkg;
    }

    @Test
    void subPackagesBelongToTheirFirstLevelSlice() {
        assertThat(slice("io.finetune.trainer.method.lora")).isEqualTo("io.finetune.trainer.method");
        assertThat(slice("io.finetune.trainer.method")).isEqualTo("io.finetune.trainer.method");
        assertThat(slice("io.finetune.operator")).isEqualTo("io.finetune.operator");
        assertThat(slice("io.finetune.api.v1alpha1")).isEqualTo("io.finetune.api.v1alpha1");
    }

    /** Tarjan's strongly connected components; each component of more than one package is reported as one cycle through it. */
    private static List<String> cycles(Map<String, Map<String, String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> components = new ArrayList<>();
        for (String v : graph.keySet()) {
            if (!index.containsKey(v)) {
                strongConnect(v, graph, index, low, stack, onStack, components);
            }
        }
        List<String> out = new ArrayList<>();
        for (Set<String> component : components) {
            if (component.size() > 1) {
                out.add(describe(component, graph));
            }
        }
        return out;
    }

    private static void strongConnect(String v, Map<String, Map<String, String>> graph, Map<String, Integer> index,
            Map<String, Integer> low, Deque<String> stack, Set<String> onStack, List<Set<String>> components) {
        index.put(v, index.size());
        low.put(v, index.get(v));
        stack.push(v);
        onStack.add(v);
        for (String w : graph.get(v).keySet()) {
            if (!index.containsKey(w)) {
                strongConnect(w, graph, index, low, stack, onStack, components);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            components.add(component);
        }
    }

    /** One cycle inside a component, from its first package: a shortest path back to the start (breadth-first). */
    private static String describe(Set<String> component, Map<String, Map<String, String>> graph) {
        String start = component.iterator().next();
        Map<String, String> parent = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(start));
        String last = null;
        while (!queue.isEmpty() && last == null) {
            String v = queue.poll();
            for (String w : graph.get(v).keySet()) {
                if (!component.contains(w)) {
                    continue;
                }
                if (w.equals(start)) {
                    last = v;
                    break;
                }
                if (!parent.containsKey(w)) {
                    parent.put(w, v);
                    queue.add(w);
                }
            }
        }
        List<String> path = new ArrayList<>();
        for (String v = last; v != null; v = parent.get(v)) {
            path.add(0, v);
        }
        path.add(start);
        List<String> edges = new ArrayList<>();
        for (int i = 0; i + 1 < path.size(); i++) {
            edges.add(path.get(i) + " -> " + path.get(i + 1) + " (" + graph.get(path.get(i)).get(path.get(i + 1)) + ")");
        }
        return String.join(", ", edges);
    }
}
