package io.finetune.bench;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.process.NativeAllocator;
import io.finetune.trainer.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Measures the native bytes one training step allocates on top of what the run already holds (weights, gradients, optimizer
 * state): its working set, which the plan's activation estimate has to cover. What it counts: every libtorch buffer alive at
 * the step's peak, i.e. the tensors autograd keeps for backward plus the backward's own temporaries.
 *
 * <p>How, and why this way: libtorch's CPU allocator is plain malloc. With glibc's mmap threshold at 4 KiB every tensor
 * buffer of that size or more is its own mapping, mapped on allocation and unmapped on free, so the resident set follows the
 * live tensors instead of what malloc keeps cached ({@link NativeAllocator} raises the threshold for speed; this undoes it for
 * the measurement and puts it back). After {@code warmup} steps (gradients, Adam moments and libtorch's one-off caches exist)
 * the heap is trimmed, the kernel's peak resident counter is reset ({@code echo 5 > /proc/self/clear_refs}, Linux 4.0+),
 * one step runs, and the working set is the new peak (VmHWM) minus the resident set before the step. Buffers under 4 KiB
 * stay on malloc's heap and may be reused from it, so tiny tensors can be under-counted; the JVM's own pages touched during
 * the step are counted (a small over-count).
 */
public final class StepWorkingSet {
    private static final int M_MMAP_THRESHOLD = -3;
    private static final int MEASURE_THRESHOLD = 4 << 10;

    interface LibC extends Library {
        int mallopt(int param, int value);

        int malloc_trim(long pad);
    }

    private StepWorkingSet() {
    }

    /** True where the measurement can run: Linux with glibc and a writable /proc/self/clear_refs. */
    public static boolean available() {
        try {
            Native.load("c", LibC.class);
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return procBytes("VmHWM") > 0;
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Runs {@code warmup} steps, then one measured step, on {@code batch}; returns the step's working set in bytes. */
    public static long measure(Trainer trainer, Batch batch, int warmup) throws IOException {
        LibC libc = Native.load("c", LibC.class);
        libc.mallopt(M_MMAP_THRESHOLD, MEASURE_THRESHOLD);
        try {
            for (int i = 0; i < warmup; i++) {
                trainer.step(List.of(batch), 1e-4, i);
            }
            System.gc();
            libc.malloc_trim(0);
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            long before = procBytes("VmRSS");
            trainer.step(List.of(batch), 1e-4, warmup);
            return procBytes("VmHWM") - before;
        } finally {
            libc.mallopt(M_MMAP_THRESHOLD, NativeAllocator.MMAP_THRESHOLD);
        }
    }

    /** A /proc/self/status figure in bytes (the kernel reports kB); -1 where there is none. */
    static long procBytes(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
