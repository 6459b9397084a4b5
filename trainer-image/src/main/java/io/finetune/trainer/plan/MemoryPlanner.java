package io.finetune.trainer.plan;

import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TargetModules;

/**
 * Estimates training memory per method from the model's dimensions, before any weight is loaded.
 *
 * <ul>
 *   <li>LoRA / LoRA+: each targeted (out, in) linear gains A (r, in) and B (out, r); only those train (methods.md §1, §3).
 *   DoRA adds the magnitude vector (out) (§2).</li>
 *   <li>GaLore: every parameter trains; targeted 2-D weights keep Adam moments (r, max) x2 and a projector (min, r),
 *   the others plain Adam moments (GaLore paper Table 1; methods.md §4).</li>
 *   <li>Full: Adam moments 2x every parameter.</li>
 * </ul>
 * Bytes follow what the trainer holds under {@code training.precision} (mixed precision as autocast + PEFT, see
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
public final class MemoryPlanner {
    private static final int ADAM_STATE_BYTES = 4;
    private static final int FP32_BYTES = 4;

    private MemoryPlanner() {
    }

    public static MemoryEstimate estimate(ModelDimensions dims, MethodType method, MethodSpec settings, PlanInputs in) {
        long baseParams = dims.totalParams();
        return switch (method) {
            case LoRA, LoRAPlus, DoRA -> adapter(dims, method, settings == null ? new LoraSpec() : settings.loraOrDefault(), in);
            case GaLore -> galore(dims, settings == null ? new GaloreSpec() : settings.galoreOrDefault(), in);
            case Full -> new MemoryEstimate(method, baseParams, baseParams, baseParams * FP32_BYTES,
                    baseParams * FP32_BYTES, 2L * baseParams * ADAM_STATE_BYTES, activationBytes(dims, in, 0));
        };
    }

    private static MemoryEstimate adapter(ModelDimensions dims, MethodType method, LoraSpec lora, PlanInputs in) {
        long trainable = 0;
        long adapterRanks = 0; // sum of r over targeted modules: the extra A·x activations per token
        for (ModelDimensions.Linear l : dims.linears()) {
            if (TargetModules.matches(lora.targetModules, l.name())) {
                trainable += (long) lora.rank * (l.in() + l.out()) + (method == MethodType.DoRA ? l.out() : 0);
                adapterRanks += lora.rank;
            }
        }
        long total = dims.totalParams() + trainable;
        long frozen2d = dims.weightMatrixParams();
        long frozenWeightBytes = frozen2d * in.valueBytes() + (dims.totalParams() - frozen2d) * FP32_BYTES;
        return new MemoryEstimate(method, trainable, total, frozenWeightBytes + trainable * FP32_BYTES,
                trainable * FP32_BYTES, 2L * trainable * ADAM_STATE_BYTES, activationBytes(dims, in, adapterRanks));
    }

    private static MemoryEstimate galore(ModelDimensions dims, GaloreSpec galore, PlanInputs in) {
        long total = dims.totalParams();
        long stateValues = 0;
        long projected = 0;
        for (ModelDimensions.Linear l : dims.linears()) {
            if (TargetModules.matches(galore.targetModules, l.name())) {
                long min = Math.min(l.in(), l.out());
                long max = Math.max(l.in(), l.out());
                long r = Math.min(galore.rank, min);
                stateValues += 2 * r * max + r * min + (l.bias() ? 2 * l.out() : 0);
                projected += l.params();
            }
        }
        stateValues += 2 * (total - projected); // embeddings, norms, lm_head, untargeted layers: plain AdamW
        return new MemoryEstimate(MethodType.GaLore, total, total, total * FP32_BYTES, total * FP32_BYTES,
                stateValues * ADAM_STATE_BYTES, activationBytes(dims, in, 0));
    }

    /** See the class comment for the count. */
    static long activationBytes(ModelDimensions d, PlanInputs in, long adapterRanksPerToken) {
        long h = d.hiddenSize();
        long qDim = (long) d.numHeads() * d.headDim();
        long perLayer = 4 * h + 3 * qDim + h + 4L * d.intermediateSize() + 2L * d.numHeads() * in.seqLength();
        long perToken = d.numLayers() * perLayer + 2 * h + 2L * d.vocabSize() + adapterRanksPerToken;
        return (long) in.batchSize() * in.seqLength() * perToken * in.valueBytes();
    }
}
