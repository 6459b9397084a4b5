package io.finetune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.optim.Optimizer;
import io.finetune.trainer.precision.HalfOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/**
 * Memory a run holds, measured from its live tensors (not from a formula): weights and adapters, the gradients attached to
 * trainable parameters, the optimizer's state arrays, and the process's peak resident set size (VmHWM).
 */
public final class MemoryAccounting {
    private static final Path STATUS = Path.of("/proc/self/status");

    private MemoryAccounting() {
    }

    public static MeasuredMemory measure(LlamaModel model, Collection<Parameter> trainable, Optimizer optimizer) {
        List<Parameter> all = model.allParameters();
        long grads = 0;
        for (Parameter p : trainable) {
            if (p.array().hasGradient()) {
                try (NDArray g = p.array().getGradient()) { // a new handle on each call; closing it leaves the gradient
                    grads += bytes(g);
                }
            }
        }
        return new MeasuredMemory(trainable.stream().mapToLong(Parameter::numel).sum(),
                all.stream().mapToLong(Parameter::numel).sum(), optimizer.stateBytes(), grads,
                all.stream().mapToLong(p -> bytes(p.array())).sum(), peakRssBytes());
    }

    /** Bytes of the array's elements; libtorch's own element size for dtypes DJL reports as UNKNOWN (bf16). */
    static long bytes(NDArray a) {
        if (a.getDataType() == DataType.UNKNOWN) {
            return HalfOps.storageBytes(a);
        }
        return a.getShape().size() * a.getDataType().getNumOfBytes();
    }

    /** VmHWM from /proc/self/status in bytes, or null where there is no procfs (not Linux). */
    public static Long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024; // the kernel reports kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
