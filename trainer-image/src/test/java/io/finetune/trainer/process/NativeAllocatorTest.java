package io.finetune.trainer.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class NativeAllocatorTest {
    @Test
    void userSettingsForGlibcMallocWin() {
        assertThat(NativeAllocator.apply(Map.of("MALLOC_MMAP_THRESHOLD_", "131072")))
                .isEqualTo(NativeAllocator.Outcome.SKIPPED_BY_ENVIRONMENT);
        assertThat(NativeAllocator.apply(Map.of("MALLOC_TRIM_THRESHOLD_", "0")))
                .isEqualTo(NativeAllocator.Outcome.SKIPPED_BY_ENVIRONMENT);
        assertThat(NativeAllocator.apply(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")))
                .isEqualTo(NativeAllocator.Outcome.SKIPPED_BY_ENVIRONMENT);
        assertThat(NativeAllocator.apply(Map.of("FINETUNE_MALLOC_TUNING", "off")))
                .isEqualTo(NativeAllocator.Outcome.SKIPPED_BY_ENVIRONMENT);
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void glibcKeepsBuffersBelowTheThresholdInTheHeap() {
        // CI and the trainer images run on glibc (Debian / Ubuntu). glibc 2.36 returns 1 from mallopt for any value, so the
        // outcome alone proves little: mallinfo2's hblkhd (bytes in mmap-ed chunks) shows where a buffer really went.
        assertThat(NativeAllocator.apply(Map.of("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=512")))
                .isEqualTo(NativeAllocator.Outcome.TUNED);
        assertThat(NativeAllocator.apply(Map.of())).isEqualTo(NativeAllocator.Outcome.TUNED);
        long below = NativeAllocator.MMAP_THRESHOLD - (8L << 20);   // 24 MiB: glibc's default (128 KiB) would mmap it
        long above = NativeAllocator.MMAP_THRESHOLD + (8L << 20);   // 40 MiB: still mmap-ed, which shows the probe works
        assertThat(mmappedGrowth(above)).isGreaterThanOrEqualTo(above);
        assertThat(mmappedGrowth(below)).isLessThan(below);
    }

    /** How much glibc's mmap-ed bytes grow while one block of {@code bytes} is allocated. */
    private static long mmappedGrowth(long bytes) {
        long before = LIBC.mallinfo2().hblkhd;
        Pointer block = LIBC.malloc(bytes);
        assertThat(block).isNotNull();
        try {
            return LIBC.mallinfo2().hblkhd - before;
        } finally {
            LIBC.free(block);
        }
    }

    private static final TestLibC LIBC = Native.load("c", TestLibC.class);

    interface TestLibC extends Library {
        Pointer malloc(long size);

        void free(Pointer block);

        MallInfo2.ByValue mallinfo2();
    }

    /** glibc's struct mallinfo2 (2.33+): ten size_t counters. */
    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost"})
    public static class MallInfo2 extends Structure {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd;
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;

        public static class ByValue extends MallInfo2 implements Structure.ByValue {
        }
    }
}
