package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** LoRA+ settings. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LoraPlusSpec {
    @Required
    @Min(1)
    @JsonPropertyDescription("Learning-rate ratio lr_B / lr_A (>= 1; the LoRA+ paper and PEFT docs use 16).")
    public Double learningRateRatio;
}
