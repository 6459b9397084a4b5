package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The launcher with real child processes ({@link LaunchedChild}, no trainer, no Gloo) on 127.0.0.1, run in this JVM: each
 * child's environment, the {@code [rank i]} prefixes, and the one exit code. Every launch has a bound; a launch that
 * passes it is interrupted, which kills its children.
 */
class LauncherTest {
    private static final long BOUND_SECONDS = 60;

    private static Map<String, String> base() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove(LaunchPlan.OMP_NUM_THREADS);   // surefire sets it; these launches split the cores they are given
        env.put("KEPT_FROM_LAUNCHER", "yes");
        return env;
    }

    /** The {@code NAME=value} lines rank {@code rank} printed, as a map. */
    private static Map<String, String> printed(String out, int rank) {
        Map<String, String> vars = new HashMap<>();
        String prefix = "[rank " + rank + "] ";
        out.lines().filter(l -> l.startsWith(prefix) && l.contains("=")).forEach(l -> {
            String kv = l.substring(prefix.length());
            vars.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        });
        return vars;
    }

    @Test
    void standaloneChildrenGetTorchrunsVariablesAPortOnLoopbackAndTheCoresSplit() throws Exception {
        var o = LauncherTests.launch(LauncherTests.children(NodeTopology.standalone(3), base(), 7, "env"),
                Duration.ofSeconds(10), BOUND_SECONDS);
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.errorLines()).isEmpty();
        String port = printed(o.out(), 0).get("MASTER_PORT");
        assertThat(Integer.parseInt(port)).isBetween(1, 65535);
        for (int rank = 0; rank < 3; rank++) {
            assertThat(printed(o.out(), rank)).as("rank " + rank).containsAllEntriesOf(Map.of(
                    "RANK", Integer.toString(rank), "WORLD_SIZE", "3", "LOCAL_RANK", Integer.toString(rank),
                    "LOCAL_WORLD_SIZE", "3", "GROUP_RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", port,
                    "OMP_NUM_THREADS", "2", "FINETUNE_LAUNCHER_PID", Long.toString(ProcessHandle.current().pid()),
                    "KEPT_FROM_LAUNCHER", "yes"));
            assertThat(o.err()).contains("[rank " + rank + "] a line on stderr");
        }
        assertThat(o.out()).as("stdout only on stdout").doesNotContain("a line on stderr");
    }

    @Test
    void aUserSetThreadCountIsEachChildsAsUnderTorchrun() throws Exception {
        Map<String, String> env = base();
        env.put(LaunchPlan.OMP_NUM_THREADS, "5");
        var o = LauncherTests.launch(LauncherTests.children(NodeTopology.standalone(2), env, 16, "env"),
                Duration.ofSeconds(10), BOUND_SECONDS);
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(printed(o.out(), 0)).containsEntry("OMP_NUM_THREADS", "5");
        assertThat(printed(o.out(), 1)).containsEntry("OMP_NUM_THREADS", "5");
    }

    @Test
    void petVariablesGiveThisNodesGlobalRanksAndTheMaster() throws Exception {
        Map<String, String> env = base();
        env.putAll(Map.of("PET_NNODES", "2", "PET_NPROC_PER_NODE", "2", "PET_NODE_RANK", "1",
                "PET_MASTER_ADDR", "job-node-0-0.job", "PET_MASTER_PORT", "29511"));
        NodeTopology topology = NodeTopology.fromEnvironment(env, "FINETUNE_NPROC");
        var o = LauncherTests.launch(LauncherTests.children(topology, env, 4, "env"), Duration.ofSeconds(10), BOUND_SECONDS);
        assertThat(o.code()).as(o.err()).isZero();
        for (int local = 0; local < 2; local++) {
            int rank = 2 + local;
            assertThat(printed(o.out(), rank)).as("rank " + rank).containsAllEntriesOf(Map.of(
                    "RANK", Integer.toString(rank), "WORLD_SIZE", "4", "LOCAL_RANK", Integer.toString(local),
                    "LOCAL_WORLD_SIZE", "2", "GROUP_RANK", "1", "MASTER_ADDR", "job-node-0-0.job", "MASTER_PORT", "29511",
                    "OMP_NUM_THREADS", "2"));
        }
        assertThat(printed(o.out(), 0)).as("ranks 0 and 1 are the other node's").isEmpty();
    }

    @Test
    void everyLineIsForwardedWholeWithItsRanksPrefix() throws Exception {
        int lines = 2000;
        var o = LauncherTests.launch(LauncherTests.children(NodeTopology.standalone(2), base(), 2, "lines", Integer.toString(lines)),
                Duration.ofSeconds(10), BOUND_SECONDS);
        assertThat(o.code()).as(o.err()).isZero();
        for (String stream : List.of(o.out(), o.err())) {
            List<String> forwarded = stream.lines().filter(l -> l.startsWith("[rank ")).toList();
            assertThat(forwarded).hasSize(2 * lines);
            for (String line : forwarded) {
                assertThat(line).matches("\\[rank ([01])\\] (rank\\1-){200}\\d+");
            }
            for (int rank = 0; rank < 2; rank++) {
                assertThat(stream).contains("[rank " + rank + "] " + ("rank" + rank + "-").repeat(200) + (lines - 1) + "\n");
            }
        }
    }

    @Test
    void oneFailedRankGivesItsCodeAnErrorLineNamingItAndTheOthersAreKilledAfterTheGrace() throws Exception {
        Duration grace = Duration.ofSeconds(2);
        var o = LauncherTests.launch(LauncherTests.children(NodeTopology.standalone(3), base(), 3, "fail", "1", "3"),
                grace, BOUND_SECONDS);
        assertThat(o.code()).as(o.err()).isEqualTo(3);
        assertThat(o.err()).as("the child's own error line, forwarded").contains("[rank 1] error: rank 1 broke on purpose");
        assertThat(o.errorLines()).as(o.err()).singleElement().asString()
                .startsWith("error: rank 1 exited with code 3; the first of 3 ranks to fail");
        assertThat(o.err()).contains("launcher: killing rank 0: still running 2 s after rank 1 failed")
                .contains("launcher: killing rank 2: still running 2 s after rank 1 failed");
        assertThat(o.millis()).as("ended within the grace plus start-up, not at the test's bound").isLessThan(25_000);
    }
}
