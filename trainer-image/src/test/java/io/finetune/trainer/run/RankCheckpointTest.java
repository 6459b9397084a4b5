package io.finetune.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.trainer.distributed.ProcessGroup;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageEnvironment;
import io.finetune.trainer.train.Checkpoints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gang pod's rank other than 0 has its own work directory: it must start from rank 0's checkpoint, fetched from the
 * destination, never afresh (a resumed gang would deadlock: rank 0 in the start broadcast, the others in the eval).
 */
class RankCheckpointTest {
    @TempDir
    Path tmp;

    /** Rank {@code rank} of 2 whose all-reduce of the max sees rank 0's {@code rankZeroStep}. */
    record Peer(int rank, long rankZeroStep) implements ProcessGroup {
        public int worldSize() {
            return 2;
        }

        public void allReduceMax(long[] data) {
            data[0] = Math.max(data[0], rankZeroStep);
        }

        public void allReduceSum(float[] data) {
            throw new UnsupportedOperationException();
        }

        public void allReduceSum(FloatBuffer data) {
            throw new UnsupportedOperationException();
        }

        public void broadcast(float[] data, int root) {
            throw new UnsupportedOperationException();
        }

        public void broadcast(FloatBuffer data, int root) {
            throw new UnsupportedOperationException();
        }

        public void barrier() {
        }

        public void close() {
        }
    }

    private Storage storage() {
        return Storage.create(tmp.resolve("cache"), StorageEnvironment.fromEnv(new HashMap<>(Map.of())));
    }

    private void publish(Storage storage, String dest, int step) throws IOException {
        Path c = Files.createDirectories(tmp.resolve("local/step-" + step));
        Files.writeString(RunLayout.trainerStateIn(c), "{\"step\": " + step + ", \"seed\": 11, \"losses\": [], \"evalLossBefore\": 2.5}");
        Files.writeString(c.resolve("adapter.safetensors"), "weights of step " + step);
        storage.publishCheckpoint(c, dest);
    }

    @Test
    void aRankWithoutRankZerosCheckpointFetchesItFromTheDestination() throws Exception {
        String dest = "file://" + tmp.resolve("dest");
        Path output = tmp.resolve("rank1-scratch");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Storage storage = storage()) {
            publish(storage, dest, 10);
            RankCheckpoint.agree(new Peer(1, 10), storage, dest, output, new PrintStream(log, true, StandardCharsets.UTF_8));
        }
        Path restored = Checkpoints.latest(output).orElseThrow();
        assertThat(Checkpoints.readState(restored).step()).isEqualTo(10);
        assertThat(Files.readString(restored.resolve("adapter.safetensors"))).isEqualTo("weights of step 10");
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("restored checkpoint step-10 from " + dest + " (rank 0's)");
    }

    @Test
    void ranksThatShareTheWorkDirectoryOrStartAfreshFetchNothing() throws Exception {
        String dest = "file://" + tmp.resolve("dest");
        try (Storage storage = storage()) {
            publish(storage, dest, 10);
            Path fresh = tmp.resolve("fresh");
            RankCheckpoint.agree(new Peer(1, RankCheckpoint.NONE), storage, dest, fresh, System.out);
            assertThat(Checkpoints.latest(fresh)).as("rank 0 starts afresh: so does rank 1").isEmpty();
            Path rankZero = tmp.resolve("rank0");
            RankCheckpoint.agree(new Peer(0, RankCheckpoint.NONE), storage, dest, rankZero, System.out);
            assertThat(Checkpoints.latest(rankZero)).as("rank 0 restores in OutputClaim, not here").isEmpty();
        }
    }

    @Test
    void aRankThatCannotGetRankZerosStepFailsNamingBoth() throws Exception {
        String dest = "file://" + tmp.resolve("dest");
        try (Storage storage = storage()) {
            publish(storage, dest, 10);
            Path output = tmp.resolve("rank1-scratch");
            assertThatThrownBy(() -> RankCheckpoint.agree(new Peer(1, 20), storage, dest, output, System.out))
                    .isInstanceOf(IOException.class)
                    .hasMessage("rank 1 cannot start from rank 0's checkpoint: rank 0 resumes from step 20, this rank's "
                            + output + " holds no checkpoint and " + dest + " does not hold rank 0's");
        }
    }
}
