package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/**
 * A 4-bit base model (QLoRA, Dettmers et al. 2023): every frozen linear weight of the decoder layers is held in 4 bits
 * (blocks of 64 values, one scale per block), embeddings, norms and lm_head stay as loaded. For LoRA, DoRA and LoRAPlus.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class QuantizationSpec {
    @Required
    @JsonPropertyDescription("4-bit data type of the frozen linear weights: nf4 (NormalFloat, QLoRA's) or fp4. No default: setting spec.model.quantization asks for one.")
    public QuantizationType type;

    @JsonPropertyDescription("Quantize the per-block scales again to 8 bits (blocks of 256): about 0.52 instead of 0.56 bytes per weight. Default: true.")
    public Boolean doubleQuant = true;

    @JsonPropertyDescription("Dtype the weights are dequantized to for the matmul: auto (the run's precision: bf16 on a GPU, fp32 on CPU), bf16 or fp32. Must agree with spec.training.precision when both are set. Default: auto.")
    public ComputeDtype computeDtype = ComputeDtype.AUTO;
}
