package io.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

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
    void glibcAcceptsTheThresholds() {
        // CI and the trainer images run on glibc (Debian / Ubuntu); mallopt returns 1 only for accepted values, so this
        // fails if a threshold were out of glibc's range (M_MMAP_THRESHOLD > 32 MiB is refused) or JNA could not reach libc.
        assertThat(NativeAllocator.apply(Map.of("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=512")))
                .isEqualTo(NativeAllocator.Outcome.TUNED);
        assertThat(NativeAllocator.apply(Map.of())).isEqualTo(NativeAllocator.Outcome.TUNED);
    }
}
