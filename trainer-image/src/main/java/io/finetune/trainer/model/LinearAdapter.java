package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Strategy that wraps a frozen {@link Linear}: LoRA, DoRA, ... each implement this and are attached by a
 * {@code TrainingMethod}. The base layer computes {@code baseOut = x W^T + b}; the adapter returns the layer's output.
 */
public interface LinearAdapter {
    /** x: (..., in); baseOut: (..., out); returns (..., out). */
    NDArray forward(Linear base, NDArray x, NDArray baseOut, ForwardContext ctx);

    /** The adapter's own trainable tensors, named with their PEFT keys (without the {@code base_model.model.} prefix). */
    List<Parameter> parameters();

    /** The merged weight (out, in) this adapter is equivalent to, so that {@code x W'^T + b == forward(...)} in eval mode. */
    NDArray mergedWeight(Linear base);
}
