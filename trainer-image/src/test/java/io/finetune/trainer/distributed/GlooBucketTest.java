package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bucket variant on Gloo (the one call DataParallel makes for both engines): two ranks on two threads of this JVM sum
 * an NDArray bucket through the host buffer, and the result lands in the bucket's own storage (the same array object,
 * not a swapped-in copy).
 */
class GlooBucketTest {

    @Test
    void bucketIsSummedInItsOwnStorage() throws Exception {
        GlooTestLibrary.require();
        int port = Ranks.freePort();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<float[]>> ranks = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                ranks.add(threads.submit(() -> {
                    LaunchEnvironment launch = new LaunchEnvironment(rank, 2, "127.0.0.1", port);
                    java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
                    env.putAll(java.util.Map.of("WORLD_SIZE", "2", "RANK", Integer.toString(rank), "MASTER_ADDR", "127.0.0.1",
                            "MASTER_PORT", Integer.toString(port)));
                    env.remove(CollectiveBackend.ENV);
                    try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                         ProcessGroup group = ProcessGroups.fromEnvironment(env, Duration.ofSeconds(20), Device.cpu())) {
                        assertThat(group).isInstanceOf(GlooProcessGroup.class);
                        assertThat(launch.rank()).isEqualTo(rank);
                        NDArray bucket = manager.create(new float[] {rank + 1f, 10f * rank, -rank}).duplicate();
                        java.nio.ByteBuffer storage = DevicePointers.of(bucket).order(java.nio.ByteOrder.nativeOrder());
                        group.allReduceSum(bucket);
                        assertThat(storage.getFloat(0)).as("the sum is in the storage the bucket had before").isEqualTo(3f);
                        return bucket.toFloatArray();
                    }
                }));
            }
            for (Future<float[]> rank : ranks) {
                assertThat(rank.get(60, TimeUnit.SECONDS)).containsExactly(3f, 10f, -1f);
            }
        } finally {
            threads.shutdownNow();
        }
    }
}
