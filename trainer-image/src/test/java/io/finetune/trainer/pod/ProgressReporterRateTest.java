package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.Progress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Rate limiting and non-blocking behaviour of {@link ProgressReporter}, against a recording fake of the API server. */
class ProgressReporterRateTest {

    /** Records every patch with the time it arrived; {@code delay} makes the "server" slow. */
    static final class RecordingPatcher implements StatusPatcher {
        final List<Long> steps = Collections.synchronizedList(new ArrayList<>());
        final List<Long> atNanos = Collections.synchronizedList(new ArrayList<>());
        volatile Duration delay = Duration.ZERO;
        final CountDownLatch firstPatchStarted = new CountDownLatch(1);

        @Override
        public void patchProgress(Progress progress) throws InterruptedException {
            firstPatchStarted.countDown();
            Thread.sleep(delay.toMillis());
            steps.add(progress.step);
            atNanos.add(System.nanoTime());
        }

        @Override
        public String target() {
            return "FineTuneJob test/job";
        }
    }

    @Test
    void aBurstOfReportsCostsFewPatchesAndTheLastValueWins() {
        RecordingPatcher server = new RecordingPatcher();
        ProgressReporter reporter = new ProgressReporter(server, settings(Duration.ofMillis(500)), line -> { });
        for (int step = 1; step <= 1000; step++) {
            reporter.report(progress(step, 1000));
        }
        reporter.close();

        assertThat(server.steps.size()).as("first value at once, then the final one at close").isBetween(1, 3);
        assertThat(server.steps.get(server.steps.size() - 1)).isEqualTo(1000L);
        assertThat(reporter.stats().reported()).isEqualTo(1000);
    }

    @Test
    void patchesAreSpacedByTheMinimumInterval() throws Exception {
        RecordingPatcher server = new RecordingPatcher();
        Duration interval = Duration.ofMillis(200);
        ProgressReporter reporter = new ProgressReporter(server, settings(interval), line -> { });
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_100);
        long step = 0;
        while (System.nanoTime() < end) {
            reporter.report(progress(++step, 100_000));
            Thread.sleep(2);
        }
        // Spacing is checked before close: close() sends the final value without waiting for the interval.
        List<Long> times = new ArrayList<>(server.atNanos);
        reporter.close();

        assertThat(times.size()).as("about 1.1 s / 200 ms patches, not one per step").isBetween(3, 7);
        for (int i = 1; i < times.size(); i++) {
            assertThat(TimeUnit.NANOSECONDS.toMillis(times.get(i) - times.get(i - 1)))
                    .as("gap before patch %d", i).isGreaterThanOrEqualTo(interval.toMillis() - 5);
        }
        assertThat(server.steps.get(server.steps.size() - 1)).as("final value delivered at close").isEqualTo(step);
    }

    @Test
    void aSlowApiServerNeverSlowsTheTrainingLoop() throws Exception {
        RecordingPatcher server = new RecordingPatcher();
        server.delay = Duration.ofMillis(1_500);
        ProgressReporter reporter = new ProgressReporter(server, settings(Duration.ZERO), line -> { });
        reporter.report(progress(1, 10));
        assertThat(server.firstPatchStarted.await(5, TimeUnit.SECONDS)).isTrue();
        long t0 = System.nanoTime();
        for (int step = 2; step <= 10; step++) {
            reporter.report(progress(step, 10));
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        reporter.close();

        assertThat(millis).as("9 reports while a patch is in flight").isLessThan(100);
        assertThat(server.steps).as("the in-flight value, then only the newest").containsExactly(1L, 10L);
    }

    @Test
    void closeWithNothingReportedSendsNothing() {
        RecordingPatcher server = new RecordingPatcher();
        ProgressReporter reporter = new ProgressReporter(server, settings(Duration.ofMillis(10)), line -> { });
        reporter.close();
        reporter.report(progress(1, 1));   // after close: ignored, no exception
        assertThat(server.steps).isEmpty();
    }

    private static ProgressReporter.Settings settings(Duration minInterval) {
        return new ProgressReporter.Settings(minInterval, Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofSeconds(10));
    }

    private static Progress progress(long step, long total) {
        return new TrainingProgress(step, total, 0, 1.0, 1e-4, 100, null).toProgress();
    }
}
