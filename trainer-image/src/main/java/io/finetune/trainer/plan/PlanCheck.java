package io.finetune.trainer.plan;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.util.cuda.CudaUtils;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.spec.RunSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The fail-fast check before training on a GPU: when the job's method cannot fit in the device's memory by the plan, stop
 * before loading weights, with a message that names the shortfall and the methods that would fit. The message says "out of
 * memory" so the pod runner reports Reason OutOfMemory.
 */
public final class PlanCheck {
    private PlanCheck() {
    }

    /** Thrown when the plan says the job cannot fit. */
    public static final class DoesNotFitException extends RuntimeException {
        public DoesNotFitException(String message) {
            super(message);
        }
    }

    /** Memory of GPU 0 when training runs on a GPU; empty on the CPU (no check there: the host has swap and cgroup limits). */
    public static OptionalLong gpuMemoryBytes() {
        if (Engine.getInstance().getGpuCount() == 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(CudaUtils.getGpuMemory(Device.gpu()).getMax());
    }

    /** Runs the check on GPU 0 if training will use one. */
    public static void beforeTraining(RunSpec spec, Path modelDir) throws IOException {
        OptionalLong gpu = gpuMemoryBytes();
        if (gpu.isPresent()) {
            requireFits(spec, modelDir.resolve(ModelConfig.FILE_NAME), gpu.getAsLong(), true);
        }
    }

    /** Returns the plan when the job's method fits in {@code deviceBytes}, else throws {@link DoesNotFitException}. */
    public static MemoryPlan requireFits(RunSpec spec, Path configJson, long deviceBytes, boolean gpu) {
        MemoryPlan plan = MemoryPlan.of(ModelConfig.readFile(configJson), spec.method(), PlanInputs.from(spec, gpu), deviceBytes);
        if (!plan.fits(spec.method().type())) {
            MemoryEstimate e = plan.estimate(spec.method().type());
            String fitting = plan.fittingMethods();
            throw new DoesNotFitException(String.format(Locale.ROOT,
                    "%s would run out of memory on this device: the plan needs %s (weights %s, gradients %s, optimizer %s, "
                            + "activations %s for micro-batch %d x %d) plus %s runtime reserve, the device has %s; "
                            + "methods that fit: %s; or lower spec.training.batchSize / spec.dataset.maxSeqLength",
                    spec.method().type(), ByteQuantity.format(e.totalBytes()), ByteQuantity.format(e.weightBytes()),
                    ByteQuantity.format(e.gradientBytes()), ByteQuantity.format(e.optimizerStateBytes()),
                    ByteQuantity.format(e.activationBytes()), plan.inputs().batchSize(), plan.inputs().seqLength(),
                    ByteQuantity.format(MemoryPlan.RUNTIME_RESERVE_BYTES), ByteQuantity.format(deviceBytes), fitting));
        }
        return plan;
    }
}
