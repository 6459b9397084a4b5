package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.Progress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TrainingProgressTest {

    @Test
    void progressShowsStepOverTotalAndAGoStyleEta() {
        Progress p = new TrainingProgress(120, 500, 1.25, 0.83, 1e-4, 2048.5, Duration.ofSeconds(250)).toProgress();
        assertThat(p.summary).isEqualTo("120/500");
        assertThat(p.eta).isEqualTo("4m10s");
        assertThat(p.step).isEqualTo(120L);
        assertThat(p.epoch).isEqualTo(1.25);
        assertThat(p.tokensPerSecond).isEqualTo(2048.5);
    }

    @Test
    void kubeflowStylePercentageAndRemainingSecondsSitBesideOurFields() {
        Progress p = new TrainingProgress(120, 500, 1.25, 0.83, 1e-4, 2048.5, Duration.ofMillis(250_400)).toProgress();
        assertThat(p.percentage).isEqualTo(24);
        assertThat(p.estimatedRemainingSeconds).isEqualTo(250L);
        // rounded down: 499/500 is not "100% done"; only the last step is
        assertThat(new TrainingProgress(499, 500, 1, 1, 1, 1, Duration.ofSeconds(2)).toProgress().percentage).isEqualTo(99);
        assertThat(new TrainingProgress(500, 500, 1, 1, 1, 1, Duration.ZERO).toProgress().percentage).isEqualTo(100);
        assertThat(new TrainingProgress(1, 2, 0.5, 1, 1, 1, null).toProgress().estimatedRemainingSeconds)
                .as("no rate measured yet").isNull();
    }

    @Test
    void durationsFormatLikeKubectl() {
        assertThat(TrainingProgress.formatDuration(Duration.ZERO)).isEqualTo("0s");
        assertThat(TrainingProgress.formatDuration(Duration.ofMillis(44_600))).isEqualTo("45s");
        assertThat(TrainingProgress.formatDuration(Duration.ofSeconds(60))).isEqualTo("1m0s");
        assertThat(TrainingProgress.formatDuration(Duration.ofSeconds(7_380))).isEqualTo("2h3m0s");
        assertThat(TrainingProgress.formatDuration(Duration.ofSeconds(-5))).isEqualTo("0s");
    }

    @Test
    void etaExtrapolatesThisProcessesPace() {
        // 50 steps in 100 s -> 2 s/step; 125 left -> 250 s
        assertThat(TrainingProgress.estimateEta(Duration.ofSeconds(100), 50, 125)).isEqualTo(Duration.ofSeconds(250));
        assertThat(TrainingProgress.estimateEta(Duration.ofSeconds(3), 0, 10)).as("no step done yet").isNull();
    }

    @Test
    void nonFiniteNumbersAreLeftOut() {
        Progress p = new TrainingProgress(1, 2, 0.5, Double.NaN, Double.POSITIVE_INFINITY, 1, null).toProgress();
        assertThat(p.loss).isNull();
        assertThat(p.learningRate).isNull();
        assertThat(p.eta).isNull();
    }
}
