package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.finetune.api.v1alpha1.Progress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTrackerTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<Progress> reported = new ArrayList<>();
    private final ProgressSink sink = new ProgressSink() {
        @Override
        public void report(Progress progress) {
            reported.add(progress);
        }

        @Override
        public void close() {
        }
    };

    @Test
    void reportsWindowedLossThroughputEpochAndEta() {
        // 100 steps planned, 25 per epoch, window of 4; each step takes 2 s and trains on 1000 tokens.
        ProgressTracker tracker = new ProgressTracker(sink, 100, 25, 0, 4, clock::get);
        for (int step = 1; step <= 10; step++) {
            clock.addAndGet(2_000_000_000L);
            tracker.onStep(step, step, 1e-4, 1000);
        }
        Progress p = reported.get(reported.size() - 1);
        assertThat(p.summary).isEqualTo("10/100");
        assertThat(p.epoch).isEqualTo(0.4);
        assertThat(p.loss).as("mean of steps 7..10").isEqualTo(8.5);
        assertThat(p.tokensPerSecond).isCloseTo(500.0, within(1e-9));
        assertThat(p.eta).as("90 steps x 2 s").isEqualTo("3m0s");
        assertThat(reported).hasSize(10);
    }

    @Test
    void aResumedRunEstimatesFromItsOwnStepsOnly() {
        // Resumed at step 60 of 100: 10 steps in 50 s here -> 5 s/step, 30 left -> 150 s.
        ProgressTracker tracker = new ProgressTracker(sink, 100, 50, 60, 10, clock::get);
        for (long step = 61; step <= 70; step++) {
            clock.addAndGet(5_000_000_000L);
            tracker.onStep(step, 1.0, 1e-4, 100);
        }
        Progress p = reported.get(reported.size() - 1);
        assertThat(p.summary).isEqualTo("70/100");
        assertThat(p.eta).isEqualTo("2m30s");
        assertThat(p.epoch).isEqualTo(1.4);
        assertThat(p.tokensPerSecond).isCloseTo(20.0, within(1e-9));
    }

    @Test
    void firstStepAlreadyHasNumbers() {
        ProgressTracker tracker = new ProgressTracker(sink, 10, 10, 0, 10, clock::get);
        clock.addAndGet(500_000_000L);
        TrainingProgress t = tracker.onStep(1, 2.5, 3e-4, 64);
        assertThat(t.loss()).isEqualTo(2.5);
        assertThat(t.tokensPerSecond()).isCloseTo(128.0, within(1e-9));
        assertThat(reported.get(0).eta).isEqualTo("5s");
        assertThat(tracker.last()).isSameAs(t);
    }
}
