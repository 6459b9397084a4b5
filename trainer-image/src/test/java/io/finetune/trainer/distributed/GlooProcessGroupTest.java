package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real Gloo collectives between real processes: N GlooWorker JVMs on 127.0.0.1 (free ports), joined through the
 * torchrun variables. Sums are of integer-valued floats, so the exact sum is known; the ranks' results are compared bit for
 * bit with each other, which is what a collective guarantees. The fault tests measure how fast rank 0 learns of a dead or
 * hung peer and print it; they bound the time generously and never assert a speed.
 */
class GlooProcessGroupTest {
    private static final long TIMEOUT_MILLIS = 20_000;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "world size {0}")
    @ValueSource(ints = {2, 3})
    void allReduceBroadcastAndBarrierAgreeOnEveryRank(int worldSize) throws Exception {
        Path library = GlooTestLibrary.require();
        int[] ranks = new int[worldSize];
        for (int r = 0; r < worldSize; r++) {
            ranks[r] = r;
        }
        List<Map<String, String>> results = new java.util.ArrayList<>();
        try (Ranks run = Ranks.start(dir, library, "collectives", worldSize, TIMEOUT_MILLIS, ranks)) {
            assertThat(run.awaitAll(180)).as("every rank finishes").isTrue();
            for (int r = 0; r < worldSize; r++) {
                assertThat(run.process(r).exitValue()).as("rank %d exit; output:\n%s", r, run.output(r)).isZero();
                assertThat(run.output(r)).contains("joined rank " + r + " of " + worldSize);
                results.add(parse(run.result(r)));
            }
        }
        Map<String, String> zero = results.get(0);
        float[] odd = GlooWorker.parseBits(zero.get("odd"));
        assertThat(odd).hasSize(GlooWorker.ODD);
        for (int i = 0; i < odd.length; i++) {
            float expected = 0;
            for (int r = 0; r < worldSize; r++) {
                expected += GlooWorker.oddValue(r, i);
            }
            assertThat(odd[i]).as("odd-length sum at %d", i).isEqualTo(expected);
        }
        assertThat(zero.get("largeMismatches")).as("16M-float sums that differ from the exact sum").isEqualTo("0");
        float[] head = GlooWorker.parseBits(zero.get("largeDirectHead"));
        float[] tail = GlooWorker.parseBits(zero.get("largeHeapTail"));
        for (int i = 0; i < head.length; i++) {
            int tailIndex = GlooWorker.LARGE - head.length + i;
            float expectedHead = 0;
            float expectedTail = 0;
            for (int r = 0; r < worldSize; r++) {
                expectedHead += GlooWorker.largeValue(r, i);
                expectedTail += GlooWorker.largeValue(r, tailIndex);
            }
            assertThat(head[i]).isEqualTo(expectedHead);
            assertThat(tail[i]).isEqualTo(expectedTail);
        }
        float[] mean = GlooWorker.parseBits(zero.get("mean"));
        for (int i = 0; i < mean.length; i++) {
            assertThat(mean[i]).as("mean of 2*rank+%d", i).isEqualTo(i + (worldSize - 1));
        }
        float[] fromZero = GlooWorker.parseBits(zero.get("broadcastFromZero"));
        for (int i = 0; i < fromZero.length; i++) {
            assertThat(fromZero[i]).isEqualTo(i);
        }
        float[] fromLast = GlooWorker.parseBits(zero.get("broadcastFromLast"));
        for (int i = 0; i < fromLast.length; i++) {
            assertThat(fromLast[i]).isEqualTo((worldSize - 1) * 10 + i);
        }
        assertThat(zero.get("max")).isEqualTo((worldSize - 1) + ",0,7");
        assertThat(zero.get("barrier")).isEqualTo("passed");
        for (int r = 1; r < worldSize; r++) {
            for (String key : List.of("odd", "largeDirect", "largeHeap", "largeDirectHead", "largeHeapTail", "mean",
                    "broadcastFromZero", "broadcastFromLast", "max", "largeMismatches")) {
                assertThat(results.get(r).get(key)).as("rank %d's %s equals rank 0's, bit for bit", r, key).isEqualTo(zero.get(key));
            }
        }
        for (int r = 0; r < worldSize; r++) {
            System.out.println("[gloo] world " + worldSize + " rank " + r + ": " + results.get(r).get("timing"));
        }
    }

    @Test
    void killedPeerMakesRankZeroFailPromptlyNamingIt() throws Exception {
        Path library = GlooTestLibrary.require();
        try (Ranks run = Ranks.start(dir, library, "hang", 2, TIMEOUT_MILLIS, 0, 1)) {
            assertThat(run.awaitOutput(1, 1, "not joining", 60)).as("rank 1 joined; output:\n%s", run.output(1)).isTrue();
            assertThat(run.awaitOutput(0, 0, "entering all-reduce", 60)).as("rank 0 output:\n%s", run.output(0)).isTrue();
            Thread.sleep(500); // rank 0 is inside the all-reduce
            long killed = System.nanoTime();
            run.process(1).destroyForcibly(); // SIGKILL
            assertThat(run.awaitAll(30)).as("rank 0 gives up within 30 s; output:\n%s", run.output(0)).isTrue();
            long millis = (System.nanoTime() - killed) / 1_000_000;
            String out = run.output(0);
            System.out.println("[gloo] rank 0 failed " + millis + " ms after rank 1 was killed: " + errorLine(out));
            assertThat(run.process(0).exitValue()).as("output:\n%s", out).isEqualTo(2);
            assertThat(errorLine(out)).startsWith("error: rank 0 of 2: all-reduce failed: connection to rank 1 closed (did rank 1 die?)");
            assertThat(millis).as("a dead peer is noticed before the 20 s timeout").isLessThan(TIMEOUT_MILLIS);
        }
    }

    @Test
    void hungPeerMakesRankZeroFailAtTheTimeout() throws Exception {
        Path library = GlooTestLibrary.require();
        long timeout = 4_000;
        try (Ranks run = Ranks.start(dir, library, "hang", 2, timeout, 0, 1)) {
            assertThat(run.awaitOutput(0, 0, "entering all-reduce", 60)).as("rank 0 output:\n%s", run.output(0)).isTrue();
            long entered = System.nanoTime();
            assertThat(run.process(0).waitFor(timeout + 20_000, java.util.concurrent.TimeUnit.MILLISECONDS))
                    .as("rank 0 gives up; output:\n%s", run.output(0)).isTrue();
            long millis = (System.nanoTime() - entered) / 1_000_000;
            String out = run.output(0);
            System.out.println("[gloo] rank 0 failed " + millis + " ms after entering the all-reduce (timeout "
                    + timeout + " ms): " + errorLine(out));
            assertThat(run.process(0).exitValue()).isEqualTo(2);
            assertThat(errorLine(out)).startsWith("error: rank 0 of 2: all-reduce failed: timed out after 4 s waiting for ");
            assertThat(out).contains("failed after ms=");
            long reported = Long.parseLong(out.replaceAll("(?s).*failed after ms=(\\d+).*", "$1"));
            assertThat(reported).as("not before the timeout").isGreaterThanOrEqualTo(timeout - 100);
            assertThat(run.process(1).isAlive()).as("rank 1 is hung, not dead").isTrue();
        }
    }

    @Test
    void rankThatNeverJoinsFailsTheRendezvousAtTheTimeout() throws Exception {
        Path library = GlooTestLibrary.require();
        long timeout = 3_000;
        long started = System.nanoTime();
        try (Ranks run = Ranks.start(dir, library, "collectives", 2, timeout, 0)) {
            assertThat(run.awaitAll(60)).as("rank 0 gives up; output:\n%s", run.output(0)).isTrue();
            long millis = (System.nanoTime() - started) / 1_000_000;
            String out = run.output(0);
            System.out.println("[gloo] lone rank 0 gave up after " + millis + " ms (timeout " + timeout + " ms, JVM start included): "
                    + errorLine(out));
            assertThat(run.process(0).exitValue()).isEqualTo(2);
            assertThat(errorLine(out)).startsWith("error: rank 0 of 2: rendezvous at MASTER_ADDR=127.0.0.1 MASTER_PORT=")
                    .contains("timed out after 3 s waiting for rank 1 (did rank 1 start?");
            assertThat(millis).isGreaterThanOrEqualTo(timeout);
        }
    }

    private static String errorLine(String output) {
        return output.lines().filter(l -> l.startsWith("error: ")).findFirst().orElse("(no error line)");
    }

    private static Map<String, String> parse(Path file) throws IOException {
        Map<String, String> values = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return values;
    }
}
