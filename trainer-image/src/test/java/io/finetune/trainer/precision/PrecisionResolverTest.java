package io.finetune.trainer.precision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.precision.PrecisionResolver.DeviceCapabilities;
import org.junit.jupiter.api.Test;

class PrecisionResolverTest {
    private static final DeviceCapabilities H100 = new DeviceCapabilities(true, true, "GPU 0 (compute capability 9.0)");
    private static final DeviceCapabilities T4 = new DeviceCapabilities(true, false, "GPU 0 (compute capability 7.5)");
    private static final DeviceCapabilities CPU = DeviceCapabilities.CPU;

    @Test
    void autoIsBf16OnCapableGpusAndFp32Elsewhere() {
        assertThat(PrecisionResolver.resolve(Precision.AUTO, H100)).isEqualTo(ComputePrecision.BF16);
        assertThat(PrecisionResolver.resolve(null, H100)).isEqualTo(ComputePrecision.BF16);
        assertThat(PrecisionResolver.resolve(Precision.AUTO, T4)).isEqualTo(ComputePrecision.FP32);
        assertThat(PrecisionResolver.resolve(Precision.AUTO, CPU)).isEqualTo(ComputePrecision.FP32);
    }

    @Test
    void explicitPrecisionsAreHonouredOrRefusedByName() {
        assertThat(PrecisionResolver.resolve(Precision.BF16, CPU)).isEqualTo(ComputePrecision.BF16);
        assertThat(PrecisionResolver.resolve(Precision.FP16, T4)).isEqualTo(ComputePrecision.FP16);
        assertThat(PrecisionResolver.resolve(Precision.FP32, H100)).isEqualTo(ComputePrecision.FP32);
        assertThatThrownBy(() -> PrecisionResolver.resolve(Precision.FP16, CPU))
                .hasMessageContaining("spec.training.precision").hasMessageContaining("fp16 needs a CUDA GPU");
        assertThatThrownBy(() -> PrecisionResolver.resolve(Precision.BF16, T4))
                .hasMessageContaining("spec.training.precision").hasMessageContaining("compute capability 7.5");
    }
}
