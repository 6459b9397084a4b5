package io.finetune.trainer.method.lora;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.ParamGroup;
import io.finetune.trainer.spec.LoraSettings;
import io.finetune.trainer.spec.TrainingSettings;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What DoRA and LoRA+ change in LoRA, as PEFT's {@code LoraVariant} (tuners/lora/variants.py): the adapter layer a module
 * gets, whether adapter_config.json says {@code use_dora}, how the trainable parameters are grouped for the optimizer, and
 * what each adapted module adds to the trainable count. Plain LoRA ({@link #LORA}) takes every default; {@link Dora}
 * changes the layer, {@link LoraPlus} only the grouping.
 */
public interface LoraVariant {
    /** Plain LoRA. */
    LoraVariant LORA = () -> MethodType.LoRA;

    MethodType type();

    /** The adapter layer of one targeted module. */
    default LoraAdapter newAdapter(Linear base, LoraSettings spec, SplittableRandom rng, NDManager manager) {
        return new LoraAdapter(base, spec.rank(), spec.scaling(), spec.dropout(), spec.init(), rng, manager);
    }

    /** The {@code use_dora} of adapter_config.json. */
    default boolean useDora() {
        return false;
    }

    /** Optimizer groups of the trainable parameters (lora_A and lora_B of every module, plus what the layer adds). */
    default List<ParamGroup> parameterGroups(List<Parameter> trainable, TrainingSettings training) {
        return TrainingMethod.groupsByDimension(trainable, training);
    }

    /** Trainable values a targeted (out, in) module adds beyond A (r, in) and B (out, r); for the memory plan. */
    default long extraTrainable(long out) {
        return 0;
    }
}
