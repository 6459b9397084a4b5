package io.finetune.trainer.process;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * DJL probes CUDA on start and, on a machine without an NVIDIA driver, logs "Failed to detect GPU count: CUDA driver
 * version is insufficient for CUDA runtime version" as a WARN on every run: noise a user takes for a fault. Where no
 * NVIDIA device or driver is present the probe's logger is limited to errors; where one is, the warning stays, because
 * there it means a real driver problem.
 */
public final class CudaProbe {
    /** slf4j-simple's per-logger level property for DJL's CUDA probe. */
    static final String LOG_LEVEL_PROPERTY = "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils";
    static final List<Path> NVIDIA_MARKERS = List.of(Path.of("/dev/nvidiactl"), Path.of("/dev/nvidia0"),
            Path.of("/proc/driver/nvidia/version"));

    private CudaProbe() {
    }

    /** Call before the first log line (slf4j-simple reads its levels once). Returns whether the probe was quietened. */
    public static boolean quietWithoutGpu() {
        return quietWithoutGpu(Files::exists);
    }

    static boolean quietWithoutGpu(Predicate<Path> exists) {
        if (System.getProperty(LOG_LEVEL_PROPERTY) != null || NVIDIA_MARKERS.stream().anyMatch(exists)) {
            return false;   // the user chose a level, or there is a GPU driver and its warning matters
        }
        System.setProperty(LOG_LEVEL_PROPERTY, "error");
        return true;
    }
}
