package io.finetune.trainer.precision;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LossScalerTest {
    @Test
    void overflowSkipsTheStepAndHalvesTheScaleFiniteStepsGrowIt() {
        LossScaler s = new LossScaler(1024, 3);
        assertThat(s.update(Double.POSITIVE_INFINITY)).isFalse();
        assertThat(s.update(Double.NaN)).isFalse();
        assertThat(s.scale()).isEqualTo(256);
        assertThat(s.skippedSteps()).isEqualTo(2);
        assertThat(s.update(1.0)).isTrue();
        assertThat(s.update(2.0)).isTrue();
        assertThat(s.scale()).as("two finite steps: not yet").isEqualTo(256);
        assertThat(s.update(3.0)).isTrue();
        assertThat(s.scale()).as("third finite step in a row doubles").isEqualTo(512);
        s.update(1.0);
        s.update(Double.POSITIVE_INFINITY);
        s.update(1.0);
        s.update(1.0);
        assertThat(s.scale()).as("an overflow restarts the count").isEqualTo(256);
    }
}
