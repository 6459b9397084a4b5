package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The method and its settings block; the block must match the type. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.lora) || self.type in ['LoRA', 'DoRA', 'LoRAPlus']",
        message = "spec.method.lora: only LoRA, DoRA and LoRAPlus take a lora block", fieldPath = ".lora")
@ValidationRule(value = "!has(self.loraPlus) || self.type == 'LoRAPlus'",
        message = "spec.method.loraPlus: only LoRAPlus takes a loraPlus block", fieldPath = ".loraPlus")
@ValidationRule(value = "self.type != 'LoRAPlus' || has(self.loraPlus)",
        message = "spec.method.loraPlus: required when type is LoRAPlus (learningRateRatio)", fieldPath = ".loraPlus")
@ValidationRule(value = "!has(self.galore) || self.type == 'GaLore'",
        message = "spec.method.galore: only GaLore takes a galore block", fieldPath = ".galore")
public class MethodSpec {
    @Required
    @JsonPropertyDescription("Method: LoRA, DoRA, LoRAPlus (adapters) or GaLore, Full (full weights).")
    public MethodType type;

    @JsonPropertyDescription("LoRA settings, used by LoRA, DoRA and LoRAPlus. Default: rank 8, alpha 16, all-linear.")
    public LoraSpec lora;

    @JsonPropertyDescription("LoRA+ settings (type LoRAPlus only).")
    public LoraPlusSpec loraPlus;

    @JsonPropertyDescription("GaLore settings (type GaLore only). Default: rank 128, updateProjectionGap 200, scale 0.25.")
    public GaloreSpec galore;

    /** The lora block, or its defaults when the manifest left it out. */
    public LoraSpec loraOrDefault() {
        return lora != null ? lora : new LoraSpec();
    }

    /** The galore block, or its defaults when the manifest left it out. */
    public GaloreSpec galoreOrDefault() {
        return galore != null ? galore : new GaloreSpec();
    }
}
