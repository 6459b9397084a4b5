package io.finetune.trainer.process;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Map;

/**
 * The device this process computes on: with GPUs, GPU {@code LOCAL_RANK} (one process per GPU, as torchrun's ranks use
 * theirs; DJL's default would put every rank of a pod on GPU 0), else the CPU. Not run on a GPU yet.
 */
public final class RankDevice {
    private RankDevice() {
    }

    public static Device of(Map<String, String> env) {
        int gpus = Engine.getInstance().getGpuCount();
        if (gpus == 0) {
            return Device.cpu();
        }
        String local = env.get("LOCAL_RANK");
        int rank;
        try {
            rank = local == null || local.isBlank() ? 0 : Integer.parseInt(local.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LOCAL_RANK must be an integer, got '" + local + "'");
        }
        if (rank < 0 || rank >= gpus) {
            throw new IllegalArgumentException("LOCAL_RANK " + rank + " names no GPU: this process sees " + gpus
                    + " (one process per GPU: spec.resources.gpus processes in the pod)");
        }
        return Device.gpu(rank);
    }
}
