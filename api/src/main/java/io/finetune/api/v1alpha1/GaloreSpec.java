package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** GaLore settings (gradient low-rank projection; arXiv 2403.03507). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.targetModules) || !('all-linear' in self.targetModules) || size(self.targetModules) == 1",
        message = "spec.method.galore.targetModules: all-linear must be the only entry", fieldPath = ".targetModules")
public class GaloreSpec {
    @Min(1)
    @Max(8192)
    @JsonPropertyDescription("Rank r of the gradient projection (capped at the smaller matrix side). Default: 128.")
    public Integer rank = 128;

    @Min(1)
    @JsonPropertyDescription("Steps between refreshes of the projection (SVD of the current gradient), T. Default: 200.")
    public Integer updateProjectionGap = 200;

    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Scale applied to the projected-back update (alpha in the paper). Default: 0.25.")
    public Double scale = 0.25;

    @Size(min = 1)
    @JsonPropertyDescription("2-D weights that get GaLore: names such as self_attn, mlp, q_proj, or all-linear (every linear except "
            + "lm_head). Other parameters use plain AdamW. Default: [all-linear].")
    public List<String> targetModules = new ArrayList<>(List.of(TargetModules.ALL_LINEAR));
}
