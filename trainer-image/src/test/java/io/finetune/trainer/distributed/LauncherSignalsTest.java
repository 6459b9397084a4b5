package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real SIGTERM (kill -TERM) to a launcher process ({@link LauncherMain}, as {@code run --nproc 2} is one) reaches every
 * child as SIGTERM; the launcher exits 75 when they all stopped with 75, and kills a child that does not stop, after its
 * bound. The launcher and its children are killed in {@code finally} whatever happens.
 */
class LauncherSignalsTest {
    private static final long BOUND_SECONDS = 60;

    record Result(int code, String output) {
    }

    /** Starts {@code LauncherMain 2 <stopWait> <scenario>}, waits for both ranks' "ready", sends SIGTERM, waits. */
    private static Result terminate(long stopWaitSeconds, String scenario) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                LauncherMain.class.getName(), "2", Long.toString(stopWaitSeconds), scenario).redirectErrorStream(true);
        pb.environment().remove(LaunchEnvironment.RANK);
        pb.environment().remove(LaunchEnvironment.WORLD_SIZE);
        Process launcher = pb.start();
        List<ProcessHandle> children = List.of();
        StringBuilder output = new StringBuilder();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(TimeUnit.SECONDS.toMillis(BOUND_SECONDS));
                    launcher.descendants().forEach(ProcessHandle::destroyForcibly);
                    launcher.destroyForcibly();
                } catch (InterruptedException e) {
                    // the test ended first
                }
            });
            watchdog.setDaemon(true);
            watchdog.start();
            boolean sent = false;
            try (BufferedReader r = launcher.inputReader(StandardCharsets.UTF_8)) {
                String line;
                int ready = 0;
                while ((line = r.readLine()) != null) {
                    output.append(line).append('\n');
                    if (line.matches("\\[rank [01]\\] ready")) {
                        ready++;
                    }
                    if (!sent && ready == 2) {
                        children = launcher.descendants().toList();
                        // kill(1), not Process.destroy(): destroy sends SIGTERM too but closes the pipe we still read
                        int rc = new ProcessBuilder("kill", "-TERM", Long.toString(launcher.pid())).inheritIO().start().waitFor();
                        assertThat(rc).as("kill -TERM").isZero();
                        sent = true;
                    }
                }
            }
            watchdog.interrupt();
            assertThat(sent).as(output.toString()).isTrue();
            assertThat(launcher.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)).as(output.toString()).isTrue();
            assertThat(children).as("both ranks were running").hasSizeGreaterThanOrEqualTo(2);
            for (ProcessHandle child : children) {
                assertThat(child.isAlive()).as("child " + child.pid() + " ended with the launcher").isFalse();
            }
            return new Result(launcher.exitValue(), output.toString());
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
            launcher.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void sigtermReachesEveryChildAndTheLauncherExits75WhenAllStopped() throws Exception {
        Result r = terminate(30, "stop");
        assertThat(r.code()).as(r.output()).isEqualTo(LaunchResult.STOPPED);
        assertThat(r.output()).contains("[rank 0] got SIGTERM").contains("[rank 1] got SIGTERM")
                .contains("launcher: SIGTERM: asking every rank to stop").doesNotContain("error: ");
    }

    @Test
    void aChildThatDoesNotStopIsKilledAfterTheBoundAndNamed() throws Exception {
        long start = System.nanoTime();
        Result r = terminate(2, "deaf");
        assertThat(r.code()).as(r.output()).isEqualTo(137);
        assertThat(r.output()).contains("[rank 0] got SIGTERM").contains("[rank 1] got SIGTERM")
                .containsPattern("error: rank [01] exited with code 137 \\(killed by the launcher: still running 2 s after SIGTERM\\)");
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).as("the bound, not the test's").isLessThan(40);
    }

    /**
     * SIGKILL to the launcher forwards nothing: each child notices its launcher's end itself ({@link LauncherWatch}) and
     * stops as on SIGTERM (here: writes why and exits 75), instead of running on as an orphan.
     */
    @Test
    void childrenStopWhenTheirLauncherIsKilled(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                LauncherMain.class.getName(), "2", "30", "orphan", dir.toString()).redirectErrorStream(true);
        pb.environment().remove(LaunchEnvironment.RANK);
        pb.environment().remove(LaunchEnvironment.WORLD_SIZE);
        Process launcher = pb.start();
        List<ProcessHandle> children = List.of();
        try {
            StringBuilder output = new StringBuilder();
            try (BufferedReader r = launcher.inputReader(StandardCharsets.UTF_8)) {
                String line;
                int ready = 0;
                while (ready < 2 && (line = r.readLine()) != null) {
                    output.append(line).append('\n');
                    if (line.matches("\\[rank [01]\\] ready")) {
                        ready++;
                    }
                }
                assertThat(ready).as(output.toString()).isEqualTo(2);
                children = launcher.descendants().toList();
                launcher.destroyForcibly();   // SIGKILL: no signal reaches the children
                assertThat(launcher.waitFor(10, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(children).as("both ranks were running").hasSizeGreaterThanOrEqualTo(2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (children.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            for (ProcessHandle child : children) {
                assertThat(child.isAlive()).as("child " + child.pid() + " stopped after its launcher was killed").isFalse();
            }
            for (int rank = 0; rank < 2; rank++) {
                assertThat(Files.readString(dir.resolve("rank" + rank + ".stopped")))
                        .isEqualTo("the launcher (pid " + launcher.pid() + ") ended");
            }
        } finally {
            children.forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }
}
