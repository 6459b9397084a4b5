package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import io.finetune.api.v1alpha1.Execution;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.precision.ComputePrecision;
import io.finetune.trainer.train.RanOn;
import org.junit.jupiter.api.Test;

class RunResultsTest {
    @Test
    void statusExecutionIsWhatTheSummarySaysRan() {
        RanOn cpu = RanOn.of(ComputePrecision.BF16, Device.cpu());
        Execution status = RunResults.execution(cpu);
        assertThat(status.precision).isEqualTo(Precision.BF16);
        assertThat(status.device).isEqualTo("cpu()");
        assertThat(status.cpuModel).isEqualTo(cpu.cpuModel());
    }
}
