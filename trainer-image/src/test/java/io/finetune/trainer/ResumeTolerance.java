package io.finetune.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.assertj.core.data.Offset;

/**
 * What a resume promises (docs/preemption.md), for the tests that check it. The checkpoint restores the state bit for bit
 * (weights, optimizer moments, GaLore projectors, step counters: those tests compare exactly). The continued losses equal
 * the uninterrupted run's within {@link #RELATIVE}: the continuation computes on other arrays, possibly in another process,
 * and libtorch/MKL may group float sums by memory alignment and CPU, so the last bits may differ (an AVX-512 Intel CPU put
 * one GaLore loss 1 ulp, ~1.2e-7 relative, off). Rounding of that size grows little over a test's few steps; a lost piece
 * of state moves the losses by 2.6e-3 (GaLore projectors) to 8e-2 (step counter) relative (GaloreMethodTest measures it).
 */
public final class ResumeTolerance {
    /** Relative bound on each loss of a resumed run against the uninterrupted run's. */
    public static final double RELATIVE = 1e-5;

    private ResumeTolerance() {
    }

    /** The allowed distance from {@code expected}. */
    public static Offset<Double> around(double expected) {
        return Offset.offset(Math.abs(expected) * RELATIVE);
    }

    /**
     * A resumed curve against the uninterrupted one: same length; the first {@code fromCheckpoint} losses exactly (they are
     * read back from the checkpoint's trainer_state.json, and were computed by a run identical to the uninterrupted one
     * in this process); the rest within {@link #RELATIVE}.
     */
    public static void assertContinues(List<Double> resumed, List<Double> uninterrupted, int fromCheckpoint) {
        assertThat(resumed).as("resumed loss curve length").hasSameSizeAs(uninterrupted);
        assertThat(resumed.subList(0, fromCheckpoint)).as("losses restored from the checkpoint")
                .containsExactlyElementsOf(uninterrupted.subList(0, fromCheckpoint));
        for (int i = fromCheckpoint; i < uninterrupted.size(); i++) {
            assertThat(resumed.get(i)).as("loss at step %d after the resume", i + 1)
                    .isCloseTo(uninterrupted.get(i), around(uninterrupted.get(i)));
        }
    }
}
