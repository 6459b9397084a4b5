package io.finetune.trainer.method.lora;

import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.ParamGroup;
import io.finetune.trainer.spec.LoraSettings;
import io.finetune.trainer.spec.TrainingSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * LoRA+ (Hayou et al. 2024, arXiv 2402.12354): plain LoRA adapters, only the optimizer grouping differs, exactly as PEFT
 * src/peft/optimizers/loraplus.py builds it: lora_B and every 1-D trainable parameter at lr·ratio (with weight decay, or
 * without it when the name contains "bias"), everything else (lora_A) at lr.
 */
final class LoraPlus implements LoraVariant {
    private final double ratio;

    /** {@code ratio} = lr(B) / lr(A), at least 1 ({@link LoraSettings} checks it). */
    LoraPlus(double ratio) {
        this.ratio = ratio;
    }

    @Override
    public MethodType type() {
        return MethodType.LoRAPlus;
    }

    @Override
    public List<ParamGroup> parameterGroups(List<Parameter> trainable, TrainingSettings training) {
        List<Parameter> groupA = new ArrayList<>();
        List<Parameter> groupB = new ArrayList<>();
        List<Parameter> groupBNoDecay = new ArrayList<>();
        for (Parameter p : trainable) {
            boolean b = p.name().contains("lora_B") || p.array().getShape().dimension() == 1;
            if (!b) {
                groupA.add(p);
            } else if (p.name().contains("bias")) {
                groupBNoDecay.add(p);
            } else {
                groupB.add(p);
            }
        }
        return List.of(new ParamGroup("groupA", groupA, 1.0, training.weightDecay()),
                new ParamGroup("groupB", groupB, ratio, training.weightDecay()),
                new ParamGroup("groupB_no_decay", groupBNoDecay, ratio, 0.0));
    }
}
