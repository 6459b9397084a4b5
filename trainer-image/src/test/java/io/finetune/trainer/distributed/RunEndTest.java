package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RunEnd} over real Gloo groups of separate JVMs ({@link GlooWorker}): the ranks other than 0 leave only once rank 0
 * has published, however long that takes compared with the collective timeout, and fail with it when it fails, so no rank
 * of a gang exits 0 while rank 0 does not.
 */
class RunEndTest {
    /** The collective timeout of these groups; rank 0's "publish" takes three of them. */
    private static final long TIMEOUT_MILLIS = 1_000;

    @TempDir
    Path dir;

    @Test
    void theOtherRanksWaitForAPublishLongerThanTheCollectiveTimeout() throws Exception {
        Path library = GlooTestLibrary.require();
        try (Ranks run = Ranks.start(dir, library, "publishSlow", 3, TIMEOUT_MILLIS, 0, 1, 2)) {
            assertThat(run.awaitAll(120)).as("every rank finishes").isTrue();
            for (int r = 0; r < 3; r++) {
                assertThat(run.process(r).exitValue()).as("rank %d exit; output:\n%s", r, run.output(r)).isZero();
            }
            assertThat(run.output(0)).contains("rank 0 published after ms=");
            for (int r = 1; r < 3; r++) {
                String out = run.output(r);
                long waited = Long.parseLong(out.replaceAll("(?s).*peer returned after ms=(\\d+).*", "$1"));
                assertThat(waited).as("rank %d left only after rank 0's publish; output:\n%s", r, out)
                        .isGreaterThanOrEqualTo(3 * TIMEOUT_MILLIS - 100);
            }
        }
    }

    @Test
    void aFailedPublishFailsEveryRankNamingRankZero() throws Exception {
        Path library = GlooTestLibrary.require();
        try (Ranks run = Ranks.start(dir, library, "publishFails", 2, TIMEOUT_MILLIS, 0, 1)) {
            assertThat(run.awaitAll(120)).as("every rank finishes").isTrue();
            assertThat(run.process(0).exitValue()).as("output:\n%s", run.output(0)).isEqualTo(3);
            assertThat(run.output(0)).contains("error: upload refused by the destination");
            assertThat(run.process(1).exitValue()).as("output:\n%s", run.output(1)).isEqualTo(2);
            assertThat(run.output(1)).contains("error: rank 1 of 2: rank 0 failed after training");
            assertThat(run.output(1)).doesNotContain("peer returned");
        }
    }
}
