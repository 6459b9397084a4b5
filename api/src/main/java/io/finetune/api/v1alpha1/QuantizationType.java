package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The 4-bit data type of a quantized base model (QLoRA, bitsandbytes' bnb_4bit_quant_type). */
public enum QuantizationType {
    /** 4-bit NormalFloat: 16 quantiles of a normal distribution, the QLoRA default. */
    @JsonProperty("nf4")
    NF4,
    /** 4-bit float (1 sign, 2 exponent, 1 mantissa bit). */
    @JsonProperty("fp4")
    FP4
}
