package io.finetune.trainer.plan;

import io.finetune.api.v1alpha1.ComputeDtype;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.distributed.GradientBuckets;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.quant.QuantType;
import io.finetune.trainer.spec.MethodSettings;
import io.finetune.trainer.spec.QuantizationSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Estimates for every method against one device memory size.
 *
 * @param selected the job's own method (marked in the table, and the one the fail-fast check uses)
 * @param qlora    for a job whose base is loaded as is: LoRA over an NF4 base with double quantization (QLoRA), the
 *                 alternative offered when LoRA does not fit; null for a job that already quantizes
 */
public record MemoryPlan(ModelConfig model, PlanInputs inputs, MethodType selected, List<MemoryEstimate> estimates,
                         long deviceMemoryBytes, MemoryEstimate qlora) {
    /** How the plan spells the QLoRA alternative: what to set to get it. */
    public static final String QLORA = "QLoRA (LoRA with spec.model.quantization: {type: nf4})";

    /**
     * Kept free for what the estimate does not count: the CUDA context and allocator fragmentation on a GPU, the JVM and
     * libtorch on the CPU. 1 GiB is the order of a CUDA 12 context plus cuBLAS workspaces.
     */
    public static final long RUNTIME_RESERVE_BYTES = 1L << 30;

    public static MemoryPlan of(ModelConfig model, MethodSettings method, PlanInputs inputs, long deviceMemoryBytes) {
        List<MemoryEstimate> all = new ArrayList<>();
        for (MethodType t : MethodType.values()) {
            all.add(TrainingMethods.create(MethodSettings.forPlan(t, method)).estimateMemory(model, inputs));
        }
        MemoryEstimate qlora = inputs.quantization() != null ? null
                : TrainingMethods.create(MethodSettings.forPlan(MethodType.LoRA, method)).estimateMemory(model,
                        inputs.withQuantization(new QuantizationSettings(QuantType.NF4, true, ComputeDtype.AUTO)));
        return new MemoryPlan(model, inputs, method.type(), List.copyOf(all), deviceMemoryBytes, qlora);
    }

    /**
     * The methods that fit, in table order, then {@link #QLORA} where LoRA itself does not fit and QLoRA does; "none ..."
     * when nothing fits.
     */
    public String fittingMethods() {
        List<String> names = new ArrayList<>();
        for (MemoryEstimate e : estimates) {
            if (fits(e.method())) {
                names.add(e.method().name());
            }
        }
        if (qlora != null && !fits(MethodType.LoRA) && fits(qlora)) {
            names.add(QLORA);
        }
        return names.isEmpty() ? "none at this batch size and sequence length" : String.join(", ", names);
    }

    private boolean fits(MemoryEstimate e) {
        return e.totalBytes() + RUNTIME_RESERVE_BYTES <= deviceMemoryBytes;
    }

    public MemoryEstimate estimate(MethodType method) {
        return estimates.stream().filter(e -> e.method() == method).findFirst().orElseThrow();
    }

    public boolean fits(MethodType method) {
        return fits(estimate(method));
    }

    /**
     * What each of {@code ranks} data-parallel processes holds besides the table's figures (which are per process: weights,
     * gradients and optimizer state replicated on every rank, activations for the rank's own micro-batch): the gradient
     * all-reduce bucket in host memory. Empty for one process.
     */
    public String perRank(int ranks) {
        if (ranks <= 1) {
            return "";
        }
        long trainable = estimate(selected).trainableParams();
        long bucket = Math.min((long) GradientBuckets.BUCKET_FLOATS, trainable) * MemoryEstimate.FP32_BYTES;
        return String.format(Locale.ROOT, "Data parallel: %d ranks, each holds the figures above (weights, gradients and "
                + "optimizer state replicated; activations for its own micro-batch of %d) plus a gradient all-reduce bucket "
                + "of %s in host memory (Gloo); the global batch is %d x %d rows%n", ranks, inputs.batchSize(),
                ByteQuantity.format(bucket), ranks, inputs.batchSize());
    }

    /** One line per method; the selected one is marked with '*'. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Model %s: %d layers, hidden %d, %,d parameters; micro-batch %d x %d tokens, "
                        + "%d-byte values; device memory %s (%s reserved for the runtime)%n",
                model.modelType(), model.numHiddenLayers(), model.hiddenSize(), model.totalParams(), inputs.batchSize(),
                inputs.seqLength(), inputs.valueBytes(), ByteQuantity.format(deviceMemoryBytes),
                ByteQuantity.format(RUNTIME_RESERVE_BYTES)));
        String fmt = "%-2s%-9s %16s %12s %12s %12s %12s %12s  %s%n";
        sb.append(String.format(Locale.ROOT, fmt, "", "method", "trainable", "weights", "gradients", "optimizer",
                "activations", "total", "fits"));
        for (MemoryEstimate e : estimates) {
            sb.append(String.format(Locale.ROOT, fmt, e.method() == selected ? "*" : "", e.method(),
                    String.format(Locale.ROOT, "%,d", e.trainableParams()), ByteQuantity.format(e.weightBytes()),
                    ByteQuantity.format(e.gradientBytes()), ByteQuantity.format(e.optimizerStateBytes()),
                    ByteQuantity.format(e.activationBytes()), ByteQuantity.format(e.totalBytes()),
                    fits(e.method()) ? "yes" : "NO"));
        }
        if (qlora != null) {
            sb.append(String.format(Locale.ROOT, fmt, "", "QLoRA",
                    String.format(Locale.ROOT, "%,d", qlora.trainableParams()), ByteQuantity.format(qlora.weightBytes()),
                    ByteQuantity.format(qlora.gradientBytes()), ByteQuantity.format(qlora.optimizerStateBytes()),
                    ByteQuantity.format(qlora.activationBytes()), ByteQuantity.format(qlora.totalBytes()),
                    (fits(qlora) ? "yes" : "NO") + " (LoRA over an nf4 base: spec.model.quantization)"));
        }
        return sb.toString();
    }
}
