package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.ComputeDtype;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.ModelSpec;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.api.v1alpha1.QuantizationSpec;
import io.finetune.api.v1alpha1.QuantizationType;
import io.finetune.api.v1alpha1.TrainingSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** spec.model.quantization: valid with the adapter methods (QLoRA, QDoRA, LoRA+), refused with Full and GaLore. */
class QuantizationSpecValidationTest {
    private static List<String> violations(MethodType type, QuantizationSpec q, Precision precision) {
        io.finetune.api.v1alpha1.FineTuneJobSpec spec = new io.finetune.api.v1alpha1.FineTuneJobSpec();
        spec.model = new ModelSpec();
        spec.model.source = "pvc://models/m";
        spec.model.quantization = q;
        spec.method = new MethodSpec();
        spec.method.type = type;
        if (type == MethodType.LoRAPlus) {
            spec.method.loraPlus = new io.finetune.api.v1alpha1.LoraPlusSpec();
            spec.method.loraPlus.learningRateRatio = 16.0;
        }
        if (precision != null) {
            spec.training = new TrainingSpec();
            spec.training.precision = precision;
        }
        return FineTuneJobValidator.validate(spec).stream().map(Violation::toString)
                .filter(v -> v.startsWith("spec.model.quantization")).toList();
    }

    private static QuantizationSpec nf4() {
        QuantizationSpec q = new QuantizationSpec();
        q.type = QuantizationType.NF4;
        return q;
    }

    @ParameterizedTest
    @EnumSource(value = MethodType.class, names = {"LoRA", "DoRA", "LoRAPlus"})
    void adapterMethodsTrainOverA4BitBase(MethodType type) {
        assertThat(violations(type, nf4(), null)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = MethodType.class, names = {"Full", "GaLore"})
    void methodsThatUpdateTheBaseAreRefusedWithTheReason(MethodType type) {
        assertThat(violations(type, nf4(), null)).singleElement().asString()
                .startsWith("spec.model.quantization")
                .contains("only LoRA, DoRA and LoRAPlus").contains(type + " updates the base weights");
    }

    @Test
    void theTypeIsRequiredAndTheComputeDtypeMustAgreeWithThePrecision() {
        QuantizationSpec q = new QuantizationSpec();
        assertThat(violations(MethodType.LoRA, q, null)).singleElement().asString()
                .startsWith("spec.model.quantization.type");
        QuantizationSpec bf16 = nf4();
        bf16.computeDtype = ComputeDtype.BF16;
        assertThat(violations(MethodType.LoRA, bf16, Precision.FP32)).singleElement().asString()
                .startsWith("spec.model.quantization.computeDtype").contains("bf16 contradicts spec.training.precision fp32");
        assertThat(violations(MethodType.LoRA, bf16, Precision.BF16)).isEmpty();
        assertThat(violations(MethodType.LoRA, bf16, Precision.AUTO)).isEmpty();
        assertThat(nf4().doubleQuant).isTrue();
        assertThat(nf4().computeDtype).isEqualTo(ComputeDtype.AUTO);
    }
}
