package io.finetune.trainer.optim;

import io.finetune.trainer.model.Parameter;
import java.util.List;

/** Parameters that share an optimizer rule: lr = scheduled lr x lrMultiplier (LoRA+ uses this), and a weight decay. */
public record ParamGroup(String name, List<Parameter> parameters, double lrMultiplier, double weightDecay) {
}
