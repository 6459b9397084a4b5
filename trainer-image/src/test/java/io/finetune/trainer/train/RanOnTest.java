package io.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.precision.ComputePrecision;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RanOnTest {
    @TempDir
    Path dir;

    @Test
    void readsTheFirstModelNameAndNothingWhereThereIsNone() throws Exception {
        Path intel = Files.writeString(dir.resolve("intel"), "processor\t: 0\nvendor_id\t: GenuineIntel\n"
                + "model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\n\nprocessor\t: 1\nmodel name\t: other\n");
        assertThat(RanOn.cpuModel(intel)).isEqualTo("Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz");
        Path arm = Files.writeString(dir.resolve("arm"), "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n");
        assertThat(RanOn.cpuModel(arm)).isNull();
        assertThat(RanOn.cpuModel(dir.resolve("missing"))).isNull();
    }

    @Test
    void recordsTheResolvedPrecisionAndDjlsDeviceName() {
        RanOn cpu = RanOn.of(ComputePrecision.BF16, Device.cpu());
        assertThat(cpu.precision()).isEqualTo(Precision.BF16);
        assertThat(cpu.device()).isEqualTo("cpu()");
        assertThat(RanOn.of(ComputePrecision.FP16, Device.gpu(0)).device()).isEqualTo("gpu(0)");
    }
}
