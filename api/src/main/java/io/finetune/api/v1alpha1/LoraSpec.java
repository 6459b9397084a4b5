package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** LoRA settings (also DoRA and LoRA+). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.targetModules) || !('all-linear' in self.targetModules) || size(self.targetModules) == 1",
        message = "spec.method.lora.targetModules: all-linear must be the only entry", fieldPath = ".targetModules")
public class LoraSpec {
    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Rank r of the update B·A (1-1024). Default: 8.")
    public Integer rank = 8;

    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Scaling numerator: the update is multiplied by alpha/r (alpha/sqrt(r) with rsLoRA). Default: 16.")
    public Double alpha = 16.0;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Dropout probability on the LoRA branch input, 0 to <1. Default: 0.")
    public Double dropout = 0.0;

    @Size(min = 1)
    @JsonPropertyDescription("Modules that get an adapter: names such as q_proj, v_proj, mlp (matched as name suffix or parent module), "
            + "or the single value all-linear (every linear layer except lm_head). Default: [all-linear].")
    public List<String> targetModules = new ArrayList<>(List.of(TargetModules.ALL_LINEAR));

    @JsonPropertyDescription("Rank-stabilised LoRA: scale by alpha/sqrt(r) instead of alpha/r. Default: false.")
    public Boolean rsLoRA = false;

    @JsonPropertyDescription("Initialisation of A: default (Kaiming-uniform) or gaussian (N(0, 1/r)); B starts at zero. Default: default.")
    public LoraInit init = LoraInit.DEFAULT;

    /** The scale applied to B·A: alpha/r, or alpha/sqrt(r) with rsLoRA (PEFT tuners/lora/layer.py). */
    public double scaling() {
        return Boolean.TRUE.equals(rsLoRA) ? alpha / Math.sqrt(rank) : alpha / rank;
    }
}
