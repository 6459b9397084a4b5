package io.finetune.trainer.model;

import io.finetune.trainer.safetensors.FloatTensor;
import java.io.IOException;

/** Supplies a named tensor of a given shape (from safetensors files, or a seeded initialiser). */
@FunctionalInterface
public interface WeightSource {
    FloatTensor get(String name, long... shape) throws IOException;
}
