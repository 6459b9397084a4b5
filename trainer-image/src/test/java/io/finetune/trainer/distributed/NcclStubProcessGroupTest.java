package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The NCCL binding's control flow on the CPU: two real JVMs on 127.0.0.1 ({@link NcclStubWorker}, DJL loaded) join an
 * {@link NcclProcessGroup} whose libnccl and libcudart are a test double (nccl_stub.c, see {@link NcclStub}). What is
 * checked is ours: rank 0's unique id reaches rank 1 through the rendezvous store; host data is staged through "device"
 * memory and the stub's result comes back; an init or a collective that never completes fails at the timeout with one
 * error line and ncclCommAbort; NCCL's asynchronous error text reaches the message; after a failure nothing reaches NCCL.
 * What is not checked: NCCL itself, and anything on a GPU (the stub computes on this rank's buffer alone).
 */
class NcclStubProcessGroupTest {
    private static final int SEED = 5;
    private static final long FAIL_TIMEOUT_MILLIS = 4_000;

    @TempDir
    Path dir;

    @Test
    void rankZerosIdReachesRankOneAndHostCollectivesAreStagedThroughTheDevice() throws Exception {
        Map<String, String> results = new HashMap<>();
        try (Ranks run = start("collectives", 30_000, Map.of(NcclStub.SEED_ENV, Integer.toString(SEED)))) {
            assertThat(run.awaitAll(120)).as("both ranks finish;%s", run.allOutput()).isTrue();
            for (int r = 0; r < 2; r++) {
                assertThat(run.process(r).exitValue()).as("rank %d;%s", r, run.allOutput()).isZero();
                assertThat(run.output(r)).contains("joined rank " + r + " of 2 on NcclProcessGroup");
            }
            for (String line : Files.readAllLines(run.result(1), StandardCharsets.UTF_8)) {
                results.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
        String id = NcclStub.expectedId(SEED, 0);
        assertThat(id).as("a rank that made its own id would be seen").isNotEqualTo(NcclStub.expectedId(SEED, 1));
        for (int r = 0; r < 2; r++) {
            List<String> calls = NcclStub.calls(dir, r);
            String on = " inPlace=1 onDevice=1 stream=0x1";
            List<String> expected = new java.util.ArrayList<>();
            if (r == 0) {
                expected.add("ncclGetUniqueId id=" + id);
            }
            expected.addAll(List.of(
                    "ncclCommInitRankConfig rank=" + r + " nranks=2 id=" + id
                            + " configSize=24 magic=cafebeef version=21400 blocking=0",
                    "ncclAllReduce call=1 count=1 dtype=7 op=0 root=-1" + on,    // the barrier that ends the join
                    "ncclAllReduce call=2 count=5 dtype=7 op=0 root=-1" + on,    // float[]
                    "ncclAllReduce call=3 count=3 dtype=7 op=0 root=-1" + on,    // FloatBuffer, position 2, 3 left
                    "ncclAllReduce call=4 count=3 dtype=4 op=2 root=-1" + on,    // long[] max
                    "ncclBroadcast call=5 count=3 dtype=7 op=-1 root=1" + on,
                    "ncclBroadcast call=6 count=2 dtype=7 op=-1 root=0" + on,
                    "ncclAllReduce call=7 count=1 dtype=7 op=0 root=-1" + on,    // barrier
                    "ncclCommDestroy rank=" + r));
            assertThat(ncclCalls(calls)).as("rank %d's NCCL calls, in order", r).containsExactlyElementsOf(expected);
            for (int i = 0; i < calls.size(); i++) {
                if (calls.get(i).matches("nccl(AllReduce|Broadcast) .*")) {
                    long count = Long.parseLong(calls.get(i).replaceAll(".* count=(\\d+) .*", "$1"));
                    long bytes = count * (calls.get(i).contains(" dtype=4 ") ? 8 : 4);
                    assertThat(calls.get(i - 1)).as("rank %d: staged in before %s", r, calls.get(i))
                            .isEqualTo("cudaMemcpy toDevice bytes=" + bytes);
                    assertThat(calls.get(i + 1)).as("rank %d: copied back after %s", r, calls.get(i))
                            .isEqualTo("cudaMemcpy toHost bytes=" + bytes);
                }
            }
        }
        // the stub computes as if rank j held (j + 1) x: sum 3x, max 2x (x where x < 0), broadcast from r (r + 1) x
        assertThat(results.get("sum")).isEqualTo(Arrays.toString(new float[] {4.5f, -6f, 0f, 3000f, 21f}));
        assertThat(results.get("slice")).as("only position..limit is reduced")
                .isEqualTo(Arrays.toString(new float[] {1f, 2f, 9f, 12f, 15f, 6f}));
        assertThat(results.get("max")).isEqualTo(Arrays.toString(new long[] {10, -4, 0}));
        assertThat(results.get("fromOne")).isEqualTo(Arrays.toString(new float[] {2f, 4f, 6f}));
        assertThat(results.get("fromZero")).isEqualTo(Arrays.toString(NcclStubWorker.FROM_ZERO));
        assertThat(results.get("barrier")).isEqualTo("passed");
    }

    @Test
    void atWorldOneTheNamedBackendIsAGroupOfOneWithItsOwnId() throws Exception {
        Path stub = NcclStub.build(dir);
        Map<String, String> env = NcclStub.env(stub, dir, Map.of(NcclStub.SEED_ENV, Integer.toString(SEED)));
        try (Ranks run = Ranks.start(dir, 1, env, rank -> List.of("-Xmx384m", NcclStubWorker.class.getName(), "join",
                dir.resolve("rank0.result").toString(), "30000"), 0)) {
            assertThat(run.awaitAll(60)).as("the rank finishes;%s", run.allOutput()).isTrue();
            assertThat(run.process(0).exitValue()).as(run.allOutput()).isZero();
            assertThat(run.output(0)).contains("joined rank 0 of 1 on NcclProcessGroup");
        }
        String id = NcclStub.expectedId(SEED, 0);
        assertThat(ncclCalls(NcclStub.calls(dir, 0))).as("no rendezvous: its own id, then the barrier that ends the join")
                .containsExactly("ncclGetUniqueId id=" + id,
                        "ncclCommInitRankConfig rank=0 nranks=1 id=" + id + " configSize=24 magic=cafebeef version=21400 blocking=0",
                        "ncclAllReduce call=1 count=1 dtype=7 op=0 root=-1 inPlace=1 onDevice=1 stream=0x1",
                        "ncclCommDestroy rank=0");
    }

    @Test
    void anInitThatNeverCompletesFailsAtTheTimeoutAndIsAborted() throws Exception {
        try (Ranks run = start("collectives", FAIL_TIMEOUT_MILLIS, Map.of(NcclStub.INIT_ENV, "hang"))) {
            assertThat(run.awaitAll(90)).as("both ranks give up;%s", run.allOutput()).isTrue();
            for (int r = 0; r < 2; r++) {
                String out = run.output(r);
                assertThat(run.process(r).exitValue()).as("rank %d;%s", r, out).isEqualTo(2);
                assertThat(errorLines(out)).as("rank %d;%s", r, out).containsExactly("error: rank " + r + " of 2: rendezvous"
                        + " (NCCL on gpu(0)) failed: timed out after 4 s waiting for rank " + (1 - r) + " (hung, dead, or"
                        + " slower than the timeout); the communicator was aborted [nccl: ncclCommInitRankConfig: not"
                        + " complete after 4000 ms]");
                long millis = reported(out, "failed after ms=");
                System.out.println("[nccl stub] rank " + r + ": init hang failed after " + millis + " ms (timeout 4 s)");
                assertThat(millis).as("rank %d: not before the timeout, not long after it", r)
                        .isBetween(FAIL_TIMEOUT_MILLIS, FAIL_TIMEOUT_MILLIS + 10_000);
                List<String> nccl = ncclCalls(NcclStub.calls(dir, r));
                assertThat(nccl.get(nccl.size() - 1)).as("rank %d's last NCCL call: %s", r, nccl)
                        .isEqualTo("ncclCommAbort rank=" + r);
                assertThat(nccl).as("rank %d", r).noneMatch(c -> c.startsWith("ncclAllReduce") || c.startsWith("ncclCommDestroy"));
            }
        }
    }

    /** hang: the stream never drains; error / remote: ncclCommGetAsyncError reports ncclSystemError / ncclRemoteError. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hang", "error", "remote"})
    void aFailedAllReduceIsReportedAbortedAndEveryLaterCollectiveRefused(String mode) throws Exception {
        try (Ranks run = start("fail", FAIL_TIMEOUT_MILLIS, Map.of(NcclStub.COLLECTIVE_ENV, mode))) {
            assertThat(run.awaitAll(90)).as("both ranks give up;%s", run.allOutput()).isTrue();
            for (int r = 0; r < 2; r++) {
                String out = run.output(r);
                String peer = "rank " + (1 - r);
                String failure = "all-reduce failed: " + switch (mode) {
                    case "hang" -> "timed out after 4 s waiting for " + peer + " (hung, dead, or slower than the timeout);"
                            + " the communicator was aborted [nccl: ncclAllReduce: not complete after 4000 ms]";
                    case "error" -> "NCCL error [nccl: ncclAllReduce: NCCL error 2 (stub: unhandled system error): stub:"
                            + " injected error at collective 2]";
                    default -> "NCCL lost " + peer + " (did " + peer + " die?) [nccl: ncclAllReduce: NCCL error 6 (stub:"
                            + " remote process exited or there was a network error): stub: injected remote at collective 2]";
                };
                String prefix = "rank " + r + " of 2: ";
                assertThat(run.process(r).exitValue()).as("rank %d;%s", r, out).isEqualTo(2);
                assertThat(errorLines(out)).as("rank %d;%s", r, out).containsExactly("error: " + prefix + failure);
                long millis = reported(out, "all-reduce failed after ms=");
                System.out.println("[nccl stub] rank " + r + ": " + mode + " failed after " + millis + " ms (timeout 4 s)");
                if (mode.equals("hang")) {
                    assertThat(millis).as("rank %d", r).isBetween(FAIL_TIMEOUT_MILLIS, FAIL_TIMEOUT_MILLIS + 10_000);
                } else {
                    assertThat(millis).as("rank %d: an error is seen at once, not at the timeout", r)
                            .isLessThan(FAIL_TIMEOUT_MILLIS);
                }
                List<String> refused = out.lines().filter(l -> l.startsWith("refused: ") || l.equals("not refused")).toList();
                List<String> operations = List.of("all-reduce", "all-reduce", "all-reduce (max)", "broadcast from rank 0",
                        "broadcast from rank 1", "barrier");
                assertThat(refused).as("rank %d;%s", r, out).containsExactlyElementsOf(operations.stream()
                        .map(op -> "refused: " + prefix + op + " refused: the group failed earlier (" + failure + ")")
                        .toList());
                assertThat(Files.readString(run.result(r))).as("a failed collective leaves the array as it was")
                        .isEqualTo("afterFailure=" + Arrays.toString(NcclStubWorker.FAILING) + "\n");
                List<String> nccl = ncclCalls(NcclStub.calls(dir, r));
                assertThat(nccl.subList(nccl.indexOf(nccl.stream().filter(c -> c.startsWith("ncclCommInit")).findFirst()
                        .orElseThrow()) + 1, nccl.size())).as("rank %d: after the join nothing reaches NCCL but one abort", r)
                        .containsExactly(
                                "ncclAllReduce call=1 count=1 dtype=7 op=0 root=-1 inPlace=1 onDevice=1 stream=0x1",
                                "ncclAllReduce call=2 count=3 dtype=7 op=0 root=-1 inPlace=1 onDevice=1 stream=0x1",
                                "ncclCommAbort rank=" + r);
            }
        }
    }

    private Ranks start(String scenario, long timeoutMillis, Map<String, String> behaviour) throws Exception {
        Path stub = NcclStub.build(dir);
        Map<String, String> env = NcclStub.env(stub, dir, behaviour);
        return Ranks.start(dir, 2, env, rank -> List.of("-Xmx384m", NcclStubWorker.class.getName(), scenario,
                dir.resolve("rank" + rank + ".result").toString(), Long.toString(timeoutMillis)), 0, 1);
    }

    private static List<String> ncclCalls(List<String> calls) {
        return calls.stream().filter(c -> c.startsWith("nccl")).collect(Collectors.toList());
    }

    private static List<String> errorLines(String output) {
        return output.lines().filter(l -> l.startsWith("error: ")).toList();
    }

    private static long reported(String output, String key) throws IOException {
        assertThat(output).contains(key);
        return Long.parseLong(output.lines().filter(l -> l.startsWith(key)).findFirst().orElseThrow().substring(key.length()));
    }
}
