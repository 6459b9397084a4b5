package io.finetune.trainer.plan;

import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.distributed.GradientBuckets;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.spec.MethodSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Estimates for every method against one device memory size.
 *
 * @param selected the job's own method (marked in the table, and the one the fail-fast check uses)
 */
public record MemoryPlan(ModelConfig model, PlanInputs inputs, MethodType selected, List<MemoryEstimate> estimates,
                         long deviceMemoryBytes) {
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
        return new MemoryPlan(model, inputs, method.type(), List.copyOf(all), deviceMemoryBytes);
    }

    public MemoryEstimate estimate(MethodType method) {
        return estimates.stream().filter(e -> e.method() == method).findFirst().orElseThrow();
    }

    public boolean fits(MethodType method) {
        return estimate(method).totalBytes() + RUNTIME_RESERVE_BYTES <= deviceMemoryBytes;
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
        return sb.toString();
    }
}
