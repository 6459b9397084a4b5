package io.finetune.trainer.distributed;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** The launcher tests' shared pieces: a small JVM for {@link LaunchedChild}, and a launch run in this JVM with a bound. */
final class LauncherTests {
    private LauncherTests() {
    }

    /** What a launch printed and returned. */
    record Outcome(int code, String out, String err, long millis) {
        List<String> errorLines() {
            return err.lines().filter(l -> l.startsWith("error: ")).toList();
        }
    }

    /** {@link LaunchedChild} with {@code arguments} in a JVM as small and quick to start as it can be. */
    static ChildCommand childCommand(List<String> arguments) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ChildCommand(java, List.of("-Xmx48m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                System.getProperty("java.class.path"), LaunchedChild.class.getName(), arguments);
    }

    static List<Launcher.Child> children(NodeTopology topology, Map<String, String> base, int cpus, String... scenario) {
        LaunchPlan plan = LaunchPlan.resolve(topology, base, cpus, LaunchPlan.ThreadBudget.PER_PROCESS_WHEN_SET);
        return Launcher.children(plan, childCommand(List.of(scenario)), base, ProcessHandle.current().pid());
    }

    /**
     * Runs the launch here; when it has not ended within {@code boundSeconds} it is interrupted (which kills its children)
     * and the outcome's code is -1.
     */
    static Outcome launch(List<Launcher.Child> children, Duration grace, long boundSeconds) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        Launcher launcher = new Launcher(children, new Launcher.Settings(grace, grace), o, e, Path.of("").toAbsolutePath());
        ExecutorService pool = Executors.newSingleThreadExecutor();
        long start = System.nanoTime();
        int code;
        try {
            Future<Integer> run = pool.submit(launcher::run);
            try {
                code = run.get(boundSeconds, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException timeout) {
                run.cancel(true);
                code = -1;
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(20, TimeUnit.SECONDS);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), millis);
    }
}
