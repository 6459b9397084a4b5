package io.finetune.trainer.methods;

import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.method.LoraMethod;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LinearAdapter;
import io.finetune.trainer.model.LlamaModel;
import java.util.SplittableRandom;

/**
 * DoRA: LoRA whose adapters are {@link DoraAdapter}s. Saved as a PEFT LoRA adapter with {@code use_dora: true} and the
 * {@code ...lora_magnitude_vector} tensors (methods.md §2); vLLM rejects such adapters, so the artifact must not claim it.
 */
public final class DoraMethod extends LoraMethod {
    public DoraMethod(LoraSpec spec) {
        super(spec);
    }

    @Override
    public MethodType type() {
        return MethodType.DoRA;
    }

    @Override
    protected LinearAdapter newAdapter(Linear base, SplittableRandom rng, LlamaModel model) {
        return new DoraAdapter(base, spec.rank, spec.scaling(), spec.dropout, spec.init, rng, model.manager());
    }

    @Override
    protected boolean useDora() {
        return true;
    }
}
