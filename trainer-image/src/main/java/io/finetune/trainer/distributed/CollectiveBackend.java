package io.finetune.trainer.distributed;

import ai.djl.Device;
import java.util.Locale;
import java.util.Map;

/**
 * Which collective engine a rank's {@link ProcessGroup} runs on: NCCL when the rank computes on a CUDA device, Gloo on
 * the CPU (the rule, and torch.distributed's default), unless {@value #ENV} names one (torch's {@code backend=}
 * choice). Gloo on a CUDA device is allowed (the gradients then go through host memory); NCCL on the CPU is not (NCCL
 * reduces device memory only).
 */
public enum CollectiveBackend {
    GLOO,
    NCCL;

    /** {@code nccl} or {@code gloo}; unset or blank: chosen by the device. */
    public static final String ENV = "FINETUNE_DIST_BACKEND";

    /**
     * @param device the device this rank computes on
     * @throws IllegalArgumentException when {@value #ENV} is neither value, or names NCCL for a CPU device
     */
    public static CollectiveBackend choose(Map<String, String> env, Device device) {
        String named = env.get(ENV);
        if (named == null || named.isBlank()) {
            return device.isGpu() ? NCCL : GLOO;
        }
        CollectiveBackend backend;
        try {
            backend = valueOf(named.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ENV + "=" + named + " is not a collective backend: use nccl or gloo");
        }
        if (backend == NCCL && !device.isGpu()) {
            throw new IllegalArgumentException(ENV + "=nccl needs a CUDA device, but this rank computes on " + device
                    + " (NCCL reduces GPU memory; use gloo on the CPU)");
        }
        return backend;
    }
}
