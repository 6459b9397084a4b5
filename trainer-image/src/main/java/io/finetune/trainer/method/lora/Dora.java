package io.finetune.trainer.method.lora;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.spec.LoraSettings;
import java.util.SplittableRandom;

/**
 * DoRA: LoRA whose adapters are {@link DoraAdapter}s. Saved as a PEFT LoRA adapter with {@code use_dora: true} and the
 * {@code ...lora_magnitude_vector} tensors (methods.md §2); vLLM rejects such adapters, so the artifact must not claim it.
 */
final class Dora implements LoraVariant {
    @Override
    public MethodType type() {
        return MethodType.DoRA;
    }

    @Override
    public LoraAdapter newAdapter(Linear base, LoraSettings spec, SplittableRandom rng, NDManager manager) {
        return new DoraAdapter(base, spec.rank(), spec.scaling(), spec.dropout(), spec.init(), rng, manager);
    }

    @Override
    public boolean useDora() {
        return true;
    }

    /** The magnitude vector m (out). */
    @Override
    public long extraTrainable(long out) {
        return out;
    }
}
