package io.finetune.trainer.distributed;

import io.finetune.api.TrainerContract.Env;
import io.finetune.api.TrainerContract.Gang;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A gang pod reads its rank from the downward-API annotations file, waiting for the operator, never forever. */
class GangAssignmentTest {
    @TempDir
    Path dir;

    @Test
    void parsesTheDownwardApiFormat() {
        Map<String, String> a = GangAssignment.parse("""
                finetune.io/gang-attempt="2"
                finetune.io/master-addr="10.1.2.3"
                finetune.io/rank="1"
                kubectl.kubernetes.io/last-applied="{\\"a\\":\\"b\\\\c\\"}\\n"
                broken line
                """);
        assertThat(a).containsEntry(Gang.RANK, "1").containsEntry(Gang.MASTER_ADDR, "10.1.2.3").containsEntry(Gang.ATTEMPT, "2")
                .containsEntry("kubectl.kubernetes.io/last-applied", "{\"a\":\"b\\c\"}\n").hasSize(4);
    }

    @Test
    void waitsUntilTheOperatorWritesTheRankThenSetsThePetVariables() throws Exception {
        Path file = dir.resolve("annotations");
        Files.writeString(file, "other=\"x\"\n");
        Map<String, String> env = Map.of(Env.PODINFO, file.toString(), Env.PET_NNODES, "2");
        assertThat(GangAssignment.needed(env)).isTrue();
        Thread writer = new Thread(() -> {
            try {
                Thread.sleep(600);
                Files.writeString(file, "finetune.io/master-addr=\"127.0.0.1\"\nfinetune.io/rank=\"1\"\n");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        writer.start();
        long t0 = System.nanoTime();
        Map<String, String> out = GangAssignment.await(env, Duration.ofSeconds(20), () -> false).orElseThrow();
        writer.join();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
        assertThat(out).containsEntry(Env.PET_NODE_RANK, "1").containsEntry(Env.PET_MASTER_ADDR, "127.0.0.1")
                .containsEntry(Env.PET_NNODES, "2");
        assertThat(NodeTopology.fromEnvironment(out, Env.NPROC)).isEqualTo(new NodeTopology(2, 1, 1, "127.0.0.1", 29500));
        assertThat(GangAssignment.needed(out)).as("a launched rank does not wait again").isFalse();
    }

    @Test
    void noRankWithinTheTimeoutIsAClearErrorAndAStopEndsTheWait() throws Exception {
        Map<String, String> env = Map.of(Env.PODINFO, dir.resolve("missing").toString(), Env.PET_NNODES, "3");
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> GangAssignment.await(env, Duration.ofSeconds(1), () -> false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("missing").toString()).hasMessageContaining(Gang.RANK)
                .hasMessageContaining("within 1 s").hasMessageContaining("all 3 pods");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));

        assertThat(GangAssignment.await(env, Duration.ofSeconds(30), () -> true)).isEqualTo(Optional.empty());
        assertThat(GangAssignment.needed(Map.of())).isFalse();
    }
}
