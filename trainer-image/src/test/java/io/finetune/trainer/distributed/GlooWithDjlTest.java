package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The symbol-clash guard: libtorch_cpu.so (loaded by DJL) exports its own, newer gloo:: symbols. In one JVM, with libtorch
 * loaded first, the binding must still resolve gloo from Debian's libgloo, a real world-2 all-reduce must work (two ranks
 * on two threads of this JVM), and libtorch must still compute afterwards.
 */
class GlooWithDjlTest {

    @Test
    void glooAndLibtorchWorkInTheSameJvm() throws Exception {
        GlooTestLibrary.require();
        assertThat(matmul()).containsExactly(19f, 22f, 43f, 50f);
        String maps = Files.readString(Path.of("/proc/self/maps"));
        assertThat(maps).as("DJL loaded libtorch_cpu.so (with its own gloo) before the binding").contains("libtorch_cpu.so");

        GlooLibrary.load(System.getenv());
        String resolved = GlooNative.resolvedGlooLibrary();
        System.out.println("[gloo] gloo::allreduce resolved from " + resolved);
        assertThat(Path.of(resolved).getFileName().toString()).startsWith("libgloo.so").doesNotContain("torch");

        int port = Ranks.freePort();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<float[]>> ranks = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                ranks.add(threads.submit(() -> {
                    LaunchEnvironment launch = new LaunchEnvironment(rank, 2, "127.0.0.1", port);
                    try (ProcessGroup group = GlooProcessGroup.open(launch, Duration.ofSeconds(20), System.getenv())) {
                        float[] data = {rank + 1f, 10f * rank, -rank};
                        group.allReduceSum(data);
                        float[] weights = {rank == 0 ? 5f : 99f};
                        group.broadcast(weights, 0);
                        return new float[] {data[0], data[1], data[2], weights[0]};
                    }
                }));
            }
            for (Future<float[]> rank : ranks) {
                assertThat(rank.get(60, TimeUnit.SECONDS)).containsExactly(3f, 10f, -1f, 5f);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(matmul()).as("libtorch still computes after the collectives").containsExactly(19f, 22f, 43f, 50f);
    }

    private static float[] matmul() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
            NDArray b = manager.create(new float[] {5, 6, 7, 8}, new ai.djl.ndarray.types.Shape(2, 2));
            return a.matMul(b).toFloatArray();
        }
    }
}
