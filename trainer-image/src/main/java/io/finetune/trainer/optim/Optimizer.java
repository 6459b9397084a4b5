package io.finetune.trainer.optim;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.safetensors.FloatTensor;
import java.util.Map;

/**
 * Updates trainable parameters from their accumulated gradients. AdamW is the default; GaLore plugs in another implementation.
 * State must round-trip through {@link #state()} / {@link #loadState(Map)} so a resumed run continues bit for bit.
 */
public interface Optimizer extends AutoCloseable {
    /** One update with the scheduled learning rate; {@code sub} is the step's sub-manager (temporaries go there). */
    void step(NDManager sub, double lr);

    /** Optimizer state by name (e.g. {@code <param>.exp_avg}), plus the step count under {@code "step"} as a 1-element tensor. */
    Map<String, FloatTensor> state();

    void loadState(Map<String, FloatTensor> state);

    /** Bytes the optimizer state tensors hold right now (measured from the arrays). */
    long stateBytes();

    @Override
    void close();
}
