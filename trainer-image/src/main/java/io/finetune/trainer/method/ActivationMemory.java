package io.finetune.trainer.method;

import io.finetune.trainer.model.CausalLmLoss;
import io.finetune.trainer.model.ModelConfig;
import java.util.List;

/**
 * The activation bytes of one training step: what a step allocates on top of the weights, gradients and optimizer state,
 * counted tensor by tensor from the trainer's own forward pass, so that the plan is an upper bound of the step's measured
 * working set (bench/run.sh PARTS=planmem and PlanHoldsTest compare them on the CPU).
 *
 * <p><b>Why every forward tensor counts, not only those autograd saves.</b> Each op result is a DJL handle owned by the
 * step's sub-manager (platform.md, "Memory ownership"), freed when the step ends: every intermediate of the forward is alive
 * through backward. The count is therefore each op's output in model/ (LlamaDecoderLayer, RmsNorm, Attention,
 * RotaryEmbedding, Mlp, Linear, the adapters), plus the 16-bit casts autograd saves inside a mixed-precision matmul
 * (precision/HalfOps casts each linear's input on its own), plus what the backward holds at its peak.
 *
 * <p>Per token and layer, h = hidden, q = heads·headDim, k = kvHeads·headDim, i = intermediate, H·T = heads x sequence; "a"
 * bytes are the compute type (a linear's or matmul's output: 2 under bf16/fp16, else 4), "f" fp32 (4), "c" a 16-bit cast
 * copy (0 in fp32):
 * <ul>
 *   <li>two RMSNorms: square, x·rsqrt, ·w = 3h f each; the two residual adds 2h f;</li>
 *   <li>q/k/v projections (q + 2k) a and their input casts 3h c; RoPE on q: the rotated half and concat 1.5q a, two
 *   multiplies and an add 3q f (x·cos promotes to fp32); the same on k; repeat_kv copies k (fp32 after RoPE) q f and v
 *   (the projection's type) q a when kvHeads &lt; heads;</li>
 *   <li>scores: the casts of q and k 2q c, QK^T and its 1/sqrt(d) multiply 2·H·T a, the mask add and softmax 2·H·T f, the
 *   probabilities' cast H·T c (v is already 16-bit: no cast), the context and its reshaped copy 2q a, o_proj h a;</li>
 *   <li>MLP: gate/up input casts 2h c; gate, sigmoid, silu, up, product 5i a; down_proj h a;</li>
 *   <li>per adapted module (in, out, r): LoRA A·x r a, B·(A·x), its scaling and the sum 3·out a, the input cast in c; DoRA
 *   A·x r a, B·A·x out a, then 5·out f (direct·(scale - 1), its sum with the base output, lora·scale, its scaling and the
 *   final sum: the magnitude is fp32 and promotes them), and under 16-bit autocast the layer's RoPE halves and MLP
 *   activations downstream of those fp32 outputs are fp32 too.</li>
 * </ul>
 * Outside the layers, per token: the embedding row h a and its fp32 copy h f, the final norm 3h f. The head: with the
 * chunked lm_head + loss (fp32 and more tokens than one chunk, model/CausalLmLoss) dL/dh and the surrogate's product 2h f per
 * token plus one chunk's logits, log-probabilities, their exp and the gradient 4·C·V f per step; otherwise the full
 * logits V a, their fp32 copy, log-softmax and its gradient 3V f, and in the backward the logits' fp32 gradient and its
 * 16-bit cast, V f + V a, per token. Per step: the additive mask B·T·T f, cos and sin 2·B·T·headDim f.
 *
 * <p>Backward: gradients are transient, freed as autograd walks back: at the peak the gradients of one op's inputs and
 * outputs, the attention's (probabilities and scores, 2·H·T f) or the MLP's (gate, up, product, 3i f), plus the residual
 * stream's gradient into and out of the layer (2h f), per token; DoRA's fp32 scaling chain two more (..., out) f of the
 * widest adapted module. Per step, transients that do not scale
 * with tokens: DoRA's row norm of W + s·B·A forms two (out, in) fp32 matrices of one module at a time (closed at once,
 * Dora.weightNorm); gradient clipping squares one gradient at a time (train/Trainer.clip), the largest one counted; a
 * method that trains the weights forms each weight gradient before accumulating it, the largest (the (V, d) embedding or
 * lm_head) twice (the chunked head's dL/dW and the embedding's own), and under 16-bit autocast each trainable matrix's
 * cast copy (out·in c), which the linear saves for backward.
 *
 * <p><b>Recomputed layers</b> (a 4-bit base, model/LayerwiseRecompute): the forward keeps each layer's input (h f per token
 * and layer) and frees the rest layer by layer; the head's graph lives to the end of the step; its chunk arrays are gone
 * before the layers are recomputed, so the peak is the larger of them and of this phase: one layer
 * recomputed with autograd (its per-layer count with adapters, and the backward's transients) while holding that layer's
 * dequantized weights (fp32, plus the 16-bit autocast copy under mixed precision) and the gradients flowing between layers.
 */
public final class ActivationMemory {
    private static final int F = 4;

    /** One adapted linear module: its input and output widths and the adapter's rank. */
    public record Adapter(long in, long out, int rank) {
    }

    /** What the method trains, which decides the adapter and weight-gradient terms. */
    public enum Trains {
        /** LoRA and LoRA+ adapters over a frozen base. */
        LORA,
        /** DoRA adapters (a magnitude and the row norm of W + s·B·A each forward). */
        DORA,
        /** The base weights themselves (Full, GaLore). */
        WEIGHTS
    }

    private ActivationMemory() {
    }

    /**
     * @param adapters the adapted modules (empty for {@link Trains#WEIGHTS})
     * @param recomputed each decoder layer is recomputed in the backward (a 4-bit base)
     */
    public static long bytes(ModelConfig d, PlanInputs in, List<Adapter> adapters, Trains trains, boolean recomputed) {
        long a = in.valueBytes();
        long c = a == F ? 0 : a;
        long h = d.hiddenSize();
        long layers = d.numHiddenLayers();
        long tokens = (long) in.batchSize() * in.seqLength();
        long layer = layerPerToken(d, in, trains == Trains.DORA ? F : a);

        long adapterPerToken = 0;
        long largestAdapterGradient = 0;
        long largestAdapted = 0;
        for (Adapter m : adapters) {
            adapterPerToken += trains == Trains.DORA ? m.rank() * a + m.out() * a + 5 * m.out() * F + m.in() * c
                    : m.rank() * a + 3 * m.out() * a + m.in() * c;
            largestAdapterGradient = Math.max(largestAdapterGradient, m.rank() * Math.max(m.in(), m.out()));
            largestAdapted = Math.max(largestAdapted, m.in() * m.out());
        }

        long v = d.vocabSize();
        int chunk = CausalLmLoss.chunkTokens();
        boolean chunked = a == F && chunk > 0 && tokens > chunk;
        long headPerToken = h * a + h * F + 3 * h * F + (chunked ? 2 * h * F : 2 * v * a + 4 * v * F);
        long chunkArrays = chunked ? 4L * chunk * v * F : 0;
        long perStep = tokens * in.seqLength() * F + 2 * tokens * d.headDim() * F;
        if (trains == Trains.DORA) {
            perStep += 2 * largestAdapted * F;
        }
        if (trains == Trains.WEIGHTS) {
            long largest = v * h;
            for (ModelConfig.LinearShape l : d.linears()) {
                largest = Math.max(largest, l.in() * l.out());
                perStep += l.in() * l.out() * c;
            }
            perStep += 3 * largest * F; // two weight gradients in flight, and the clipping's square of one
        } else {
            perStep += largestAdapterGradient * F; // the clipping's square of the largest adapter gradient
        }

        // the backward's transients: one op's gradients at a time, the attention's (probabilities and scores) or the MLP's
        // (gate, up and their product), plus the residual stream's gradient in and out of the layer
        long backward = 2L * d.numAttentionHeads() * in.seqLength() * F + 3L * d.intermediateSize() * F + 2 * h * F;
        if (trains == Trains.DORA) {
            // DoRA's fp32 scaling chain puts two more (..., out) gradients of one module in flight, the widest one counted
            backward += 2 * adapters.stream().mapToLong(Adapter::out).max().orElse(0) * F;
        }
        long perToken;
        if (recomputed) {
            long layerAdapters = adapterPerToken / Math.max(1, layers);
            // the saved layer inputs; one layer's graph with its adapters; its backward
            // the saved layer inputs and the head's graph live through the step; the head's chunk arrays come and go
            // before the first layer is recomputed, so the peak is the larger of the two phases, not their sum
            perToken = layers * h * F + headPerToken;
            long layerWeights = d.layerLinears(0).stream().mapToLong(l -> l.in() * l.out()).sum();
            perStep += Math.max(chunkArrays, tokens * (layer + layerAdapters + backward) + layerWeights * (F + c));
        } else {
            // the chunk arrays (at the end of the forward) and the backward's transients are counted together: an upper
            // bound, over by the smaller of the two
            perToken = layers * layer + adapterPerToken + headPerToken + backward;
            perStep += chunkArrays;
        }
        return tokens * perToken + perStep;
    }

    /**
     * The per-token, per-layer count of the class comment (no adapters); {@code p}: bytes of a projection's output (the
     * compute type, or fp32 where DoRA's magnitude promotes it).
     */
    static long layerPerToken(ModelConfig d, PlanInputs in, long p) {
        long a = in.valueBytes();
        long c = a == F ? 0 : a;
        long h = d.hiddenSize();
        long q = (long) d.numAttentionHeads() * d.headDim();
        long k = (long) d.numKeyValueHeads() * d.headDim();
        long i = d.intermediateSize();
        long ht = (long) d.numAttentionHeads() * in.seqLength();
        long norms = 2 * 3 * h * F + 2 * h * F;
        long qkv = (q + 2 * k) * a + 3 * h * c;
        long rope = (q / 2 + q) * p + 3 * q * F + (k / 2 + k) * p + 3 * k * F;
        long repeat = d.numKeyValueHeads() < d.numAttentionHeads() ? q * F + q * p : 0;
        long vCast = p == F ? q * c : 0;
        long scores = 2 * q * c + 2 * ht * a + 2 * ht * F + ht * c + vCast + 2 * q * a + h * a;
        long mlp = 2 * h * c + 2 * i * a + 3 * i * p + h * a;
        return norms + qkv + rope + repeat + scores + mlp;
    }
}
