package io.finetune.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.precision.Autocast;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Forward and backward of one micro-batch with each decoder layer recomputed in the backward (per-layer activation
 * checkpointing, as QLoRA trains with gradient checkpointing). What it is for: a 4-bit layer dequantizes its weights for
 * the forward; a plain backward would need autograd to keep every layer's dequantized weight (and activations) from the
 * forward until its gradient is computed, i.e. the whole base in the compute dtype at the peak. Here:
 * <ol>
 *   <li>the forward runs with autograd off, one layer at a time in its own sub-manager, keeping only each layer's input
 *       (B, T, d): a layer's dequantized weights and intermediates are freed before the next layer runs;</li>
 *   <li>the head (final norm, lm_head, loss) runs with autograd from the last layer's output and is back-propagated;</li>
 *   <li>from the last layer down, the layer is run again with autograd from its saved input (the same dropout masks:
 *       {@link ForwardContext#replay}) and back-propagated with the gradient arriving from above
 *       ({@code torch.autograd.backward(y, grad)}); the gradient reaching its input goes on to the layer below.</li>
 * </ol>
 * Cost: one more forward of the decoder layers per step; at the peak one layer's dequantized weights and graph. Gradients
 * are those of the plain backward (the same ops, each layer's upstream gradient handed in unchanged).
 */
public final class LayerwiseRecompute {
    private LayerwiseRecompute() {
    }

    /**
     * Runs the forward and backward of {@code batch}; gradients accumulate into the trainable parameters as a plain
     * {@code backward(backwardOf(lossOf(sum)))} would. Call inside a {@code GradientCollector}; returns {@code lossOf(sum)}.
     *
     * @param lossOf     the loss from the summed token loss (e.g. divided by the step's loss tokens)
     * @param backwardOf what is back-propagated (e.g. the loss times the fp16 loss scale)
     */
    public static NDArray lossAndBackward(NDManager sub, LlamaModel model, Batch batch, ForwardContext ctx,
                                          UnaryOperator<NDArray> lossOf, UnaryOperator<NDArray> backwardOf) {
        List<DecoderLayer> layers = model.layers();
        List<NDArray> inputs = new ArrayList<>(layers.size());
        List<ForwardContext> contexts = new ArrayList<>(layers.size());
        List<LayerInputs> layerInputs;
        NDArray h;
        boolean grad = JniUtils.isGradMode();
        try (Autocast.Scope scope = Autocast.enter(model.precision())) {
            JniUtils.setGradMode(false);
            try {
                h = model.embed(sub, batch);                                                      // (B, T, d)
                layerInputs = model.layerInputs(sub, batch); // each layer's RoPE and mask (windowed where it slides)
                for (int i = 0; i < layers.size(); i++) {
                    DecoderLayer layer = layers.get(i);
                    LayerInputs in = layerInputs.get(i);
                    inputs.add(h);
                    contexts.add(ctx.replay());
                    h = inLayerManager(sub, h, x -> layer.forward(x, in, ctx));                    // (B, T, d)
                }
            } finally {
                JniUtils.setGradMode(grad);
            }
            NDArray top = h.stopGradient();                                                       // (B, T, d), a leaf
            top.setRequiresGradient(true);
            NDArray loss = lossOf.apply(CausalLmLoss.sumOfHidden(sub, model, model.finalNorm().forward(top), batch, ctx,
                    CausalLmLoss.chunkTokens()));
            NDArray seed = backwardOf.apply(loss);
            JniUtils.backward((PtNDArray) seed, (PtNDArray) sub.ones(seed.getShape(), seed.getDataType()), false, false);
            NDArray upstream = gradientOf(top, sub);
            for (int i = layers.size() - 1; i >= 0; i--) {
                DecoderLayer layer = layers.get(i);
                ForwardContext replay = contexts.get(i);
                LayerInputs in = layerInputs.get(i);
                boolean below = i > 0; // the embedding is frozen: layer 0's input needs no gradient
                NDArray g = upstream;
                upstream = inLayerManager(sub, inputs.get(i), x -> {
                    if (below) {
                        x.setRequiresGradient(true);
                    }
                    NDArray y = layer.forward(x, in, replay);                                      // (B, T, d)
                    JniUtils.backward((PtNDArray) y, (PtNDArray) g, false, false);
                    return below ? gradientOf(x, x.getManager()) : null;
                });
            }
            return loss;
        }
    }

    /**
     * Runs {@code f} on a detached copy of {@code input} owned by a fresh sub-manager, so every intermediate of the layer
     * lands there and is freed when it closes; the result (may be null) is moved to {@code sub}.
     */
    private static NDArray inLayerManager(NDManager sub, NDArray input, UnaryOperator<NDArray> f) {
        try (NDManager layer = sub.newSubManager()) {
            NDArray x = input.stopGradient();
            x.attach(layer);
            NDArray out = f.apply(x);
            if (out != null) {
                out.attach(sub);
            }
            return out;
        }
    }

    private static NDArray gradientOf(NDArray leaf, NDManager into) {
        NDArray g = leaf.getGradient();
        g.attach(into);
        return g;
    }
}
