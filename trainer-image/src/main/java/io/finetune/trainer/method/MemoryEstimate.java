package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.model.ModelConfig;

/**
 * Estimated training memory of one method, in bytes, plus the parameter counts it follows from. Each method computes its
 * own ({@link TrainingMethod#estimateMemory}); the byte rules they share are here.
 *
 * <p>Bytes follow what the trainer holds under {@code training.precision} (mixed precision as autocast + PEFT, see
 * {@code LlamaModel.usePrecision}): every trainable parameter, its gradient and its Adam moments are fp32 (4 + 4 + 8 bytes:
 * the trainable fp32 weights are the master copy); frozen 2-D weights (linears and the embedding) are held in
 * {@link PlanInputs#valueBytes()} (2 in bf16/fp16, 4 in fp32); frozen norm weights and biases stay fp32. Activations use
 * {@link PlanInputs#valueBytes()}.
 *
 * <p>Activations count the tensors autograd keeps for backward in the LLaMA forward, per token and layer: RMSNorm input and
 * output (2h) twice, q and k, v repeated to every head for grouped-query attention (3·heads·headDim), the attention output
 * (h), SwiGLU gate, up, silu(gate) and their product (4i), and the attention probabilities with their pre-softmax scores (2·heads·seq), as in Korthikanti et al.
 * 2022, "Reducing Activation Recomputation", §4.1 (no dropout masks here). The head adds the final norm and the logits with
 * their log-softmax (2·vocab per token). Adapter methods add the low-rank A·x (r) per targeted module.
 */
public record MemoryEstimate(MethodType method, long trainableParams, long totalParams, long weightBytes, long gradientBytes,
                             long optimizerStateBytes, long activationBytes) {
    /** Bytes of one Adam moment value (two per trainable value). */
    public static final int ADAM_STATE_BYTES = 4;
    public static final int FP32_BYTES = 4;

    /** Weights + gradients + optimizer state + activations (the runtime reserve is added by the plan). */
    public long totalBytes() {
        return weightBytes + gradientBytes + optimizerStateBytes + activationBytes;
    }

    /** See the class comment for the count; {@code adapterRanksPerToken}: sum of r over the adapted modules (0 without). */
    public static long activationBytes(ModelConfig d, PlanInputs in, long adapterRanksPerToken) {
        long h = d.hiddenSize();
        long qDim = (long) d.numAttentionHeads() * d.headDim();
        long perLayer = 4 * h + 3 * qDim + h + 4L * d.intermediateSize() + 2L * d.numAttentionHeads() * in.seqLength();
        long perToken = d.numHiddenLayers() * perLayer + 2 * h + 2L * d.vocabSize() + adapterRanksPerToken;
        return (long) in.batchSize() * in.seqLength() * perToken * in.valueBytes();
    }

    /**
     * Activations when each decoder layer is recomputed in the backward (a 4-bit base, {@code LayerwiseRecompute}): every
     * layer's input (h per token) is kept, the full set of the class comment for one layer at a time, plus the head; and
     * one layer's dequantized weights, in fp32 plus their 16-bit autocast copy under mixed precision.
     *
     * @param adapterRanksPerLayer sum of r over one layer's adapted modules
     */
    public static long recomputedActivationBytes(ModelConfig d, PlanInputs in, long adapterRanksPerLayer) {
        long h = d.hiddenSize();
        long qDim = (long) d.numAttentionHeads() * d.headDim();
        long perLayer = 4 * h + 3 * qDim + h + 4L * d.intermediateSize() + 2L * d.numAttentionHeads() * in.seqLength();
        long perToken = d.numHiddenLayers() * h + perLayer + 2 * h + 2L * d.vocabSize() + adapterRanksPerLayer;
        long layerWeights = d.layerLinears(0).stream().mapToLong(ModelConfig.LinearShape::params).sum();
        long dequantized = layerWeights * (FP32_BYTES + (in.valueBytes() < FP32_BYTES ? in.valueBytes() : 0));
        return (long) in.batchSize() * in.seqLength() * perToken * in.valueBytes() + dequantized;
    }
}
