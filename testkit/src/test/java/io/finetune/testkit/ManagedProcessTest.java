package io.finetune.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Process handling without the Kubernetes binaries: error messages carry the log tail; close() leaves no orphans. */
class ManagedProcessTest {
    @TempDir
    Path dir;

    @Test
    void failureNamesTheProcessAndCarriesTheTailOfItsLog() throws Exception {
        ManagedProcess p = ManagedProcess.start("etcd",
                List.of("/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25"
                        + " 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45; do echo line $i; done;"
                        + " echo 'fatal: address already in use'; exit 3"),
                dir.resolve("etcd.log"));
        waitUntilDead(p);
        ControlPlaneException e = p.failure("exited before /health was ready");
        assertThat(e.getMessage())
                .startsWith("etcd: exited before /health was ready (exited with status 3; log " + dir.resolve("etcd.log"))
                .contains("fatal: address already in use")
                .contains("line 45")
                .doesNotContain("line 5\n");
        p.close();
    }

    @Test
    void closeStopsTheProcessAndItsWatchdog() throws Exception {
        ManagedProcess p = ManagedProcess.start("sleeper", List.of("sleep", "300"), dir.resolve("sleeper.log"));
        Thread.sleep(300);
        List<ProcessHandle> handles = p.handles();
        assertThat(handles).anySatisfy(h -> assertThat(h.info().command().orElse("")).endsWith("sleep"));
        assertThat(handles).allMatch(ProcessHandle::isAlive);
        p.close();
        for (ProcessHandle h : handles) {
            h.onExit().get();
        }
        assertThat(handles).noneMatch(ProcessHandle::isAlive);
    }

    private static void waitUntilDead(ManagedProcess p) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(p.isAlive()).isFalse();
    }
}
