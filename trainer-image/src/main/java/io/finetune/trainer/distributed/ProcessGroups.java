package io.finetune.trainer.distributed;

import ai.djl.Device;
import java.time.Duration;
import java.util.Map;

/** The one way the trainer gets its {@link ProcessGroup}: from torchrun's environment variables and the rank's device. */
public final class ProcessGroups {
    private ProcessGroups() {
    }

    /**
     * A {@link SingleProcessGroup} when {@code WORLD_SIZE} is unset or 1 (so the trainer's code path is the same at world
     * size 1), else a group joined at MASTER_ADDR:MASTER_PORT on the engine {@link CollectiveBackend#choose} picks:
     * {@link NcclProcessGroup} on a CUDA device, {@link GlooProcessGroup} on the CPU. One exception: at world size 1 with
     * {@value CollectiveBackend#ENV}=nccl on a CUDA device, an NCCL group of one (as torchrun with one process and
     * backend nccl), so that a one-GPU machine can check the binding; its collectives are NCCL's, with no peer.
     *
     * @param env the process environment ({@code System.getenv()})
     * @param timeout the bound on the rendezvous and on every collective
     * @param device the device this rank computes on (and its gradients live on)
     * @throws IllegalArgumentException when a variable is malformed (the message names it)
     * @throws CollectiveException when the group cannot be joined (or the engine's library is missing)
     */
    public static ProcessGroup fromEnvironment(Map<String, String> env, Duration timeout, Device device) {
        LaunchEnvironment launch = LaunchEnvironment.parse(env);
        if (launch.worldSize() == 1) {
            boolean ncclNamed = device.isGpu() && "nccl".equalsIgnoreCase(env.getOrDefault(CollectiveBackend.ENV, "").strip());
            return ncclNamed ? NcclProcessGroup.open(launch, timeout, env, device) : new SingleProcessGroup();
        }
        return switch (CollectiveBackend.choose(env, device)) {
            case NCCL -> NcclProcessGroup.open(launch, timeout, env, device);
            case GLOO -> GlooProcessGroup.open(launch, timeout, env);
        };
    }

    /**
     * For processes whose collectives touch host memory only (the launcher's and tests' helpers): the CPU's engine,
     * Gloo, unless {@value CollectiveBackend#ENV} says otherwise. The trainer passes its device to
     * {@link #fromEnvironment(Map, Duration, Device)}.
     */
    public static ProcessGroup fromEnvironment(Map<String, String> env, Duration timeout) {
        return fromEnvironment(env, timeout, Device.cpu());
    }
}
