package io.finetune.trainer.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No CUDA noise on a machine without an NVIDIA driver; the warning stays where there is one. */
class CudaProbeTest {
    @TempDir
    Path dir;

    @Test
    void cudaProbeIsQuietOnlyWithoutAnNvidiaDriver() {
        String saved = System.getProperty(CudaProbe.LOG_LEVEL_PROPERTY);
        try {
            System.clearProperty(CudaProbe.LOG_LEVEL_PROPERTY);
            assertThat(CudaProbe.quietWithoutGpu(p -> p.toString().equals("/dev/nvidiactl"))).isFalse();
            assertThat(System.getProperty(CudaProbe.LOG_LEVEL_PROPERTY)).isNull();
            assertThat(CudaProbe.quietWithoutGpu(p -> false)).isTrue();
            assertThat(System.getProperty(CudaProbe.LOG_LEVEL_PROPERTY)).isEqualTo("error");
        } finally {
            if (saved == null) {
                System.clearProperty(CudaProbe.LOG_LEVEL_PROPERTY);
            } else {
                System.setProperty(CudaProbe.LOG_LEVEL_PROPERTY, saved);
            }
        }
    }

    /** The real CLI in its own JVM on this GPU-less machine: DJL starts (init-model builds a model) without the warning. */
    @Test
    void aCpuRunPrintsNoCudaWarning() throws Exception {
        assumeTrue(CudaProbe.NVIDIA_MARKERS.stream().noneMatch(Files::exists), "this machine has an NVIDIA driver");
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.finetune.trainer.Main",
                "init-model", "--preset", "tiny", "--output", dir.resolve("m").toString())
                .redirectError(err.toFile()).redirectOutput(dir.resolve("stdout.txt").toFile()).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String stderr = Files.readString(err);
        assertThat(p.exitValue()).as(stderr).isZero();
        assertThat(dir.resolve("m/model.safetensors")).isRegularFile();
        assertThat(stderr).doesNotContain("Failed to detect GPU count");
    }
}
