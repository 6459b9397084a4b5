package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.spec.QuantizationSettings;
import io.finetune.trainer.spec.RunSpec;


/**
 * What the plan needs besides the model: micro-batch shape and bytes per weight/activation value.
 *
 * @param valueBytes bytes of one frozen weight-matrix value and of one activation value (4 for fp32, 2 for bf16/fp16);
 *                   trainable parameters, gradients and optimizer state are always fp32
 * @param quantization the 4-bit base the adapter methods train over, or null (weights as loaded)
 */
public record PlanInputs(int batchSize, int seqLength, int valueBytes, QuantizationSettings quantization) {
    public PlanInputs(int batchSize, int seqLength, int valueBytes) {
        this(batchSize, seqLength, valueBytes, null);
    }

    /** The same inputs over a base held as {@code q} (null: as loaded). */
    public PlanInputs withQuantization(QuantizationSettings q) {
        return new PlanInputs(batchSize, seqLength, valueBytes, q);
    }

    /**
     * From the job: micro-batch {@code training.batchSize} x {@code dataset.maxSeqLength} (the longest a padded batch can be);
     * precision auto means bf16 on a GPU (the plan assumes one with bf16 support, compute capability 8.0+) and fp32 on the
     * CPU, as {@code PrecisionResolver} decides.
     */
    public static PlanInputs from(RunSpec spec, boolean gpu) {
        QuantizationSettings q = spec.quantization().orElse(null);
        Precision precision = q == null ? spec.training().precision() : q.precision(spec.training().precision());
        int bytes = switch (precision) {
            case FP32 -> 4;
            case BF16, FP16 -> 2;
            case AUTO -> gpu ? 2 : 4;
        };
        return new PlanInputs(spec.training().batchSize(), spec.data().maxSeqLength(), bytes, q);
    }
}
