package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * What one decoder layer takes besides its hidden states: the RoPE tables of its kind of layer (Gemma 3's sliding layers
 * rotate with their own base) and the mask of its attention (full or windowed), built once per batch and shared by the
 * layers of a kind.
 *
 * @param cos  (B, 1, T, rotaryDim)
 * @param sin  (B, 1, T, rotaryDim)
 * @param mask (B, 1, T, T), additive
 */
public record LayerInputs(NDArray cos, NDArray sin, NDArray mask) {
}
