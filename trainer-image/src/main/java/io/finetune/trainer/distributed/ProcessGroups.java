package io.finetune.trainer.distributed;

import java.time.Duration;
import java.util.Map;

/** The one way the trainer gets its {@link ProcessGroup}: from torchrun's environment variables. */
public final class ProcessGroups {
    private ProcessGroups() {
    }

    /**
     * A {@link SingleProcessGroup} when {@code WORLD_SIZE} is unset or 1 (so the trainer's code path is the same at world
     * size 1), else a {@link GlooProcessGroup} joined at MASTER_ADDR:MASTER_PORT.
     *
     * @param env the process environment ({@code System.getenv()})
     * @param timeout the bound on the rendezvous and on every collective
     * @throws IllegalArgumentException when a variable is malformed (the message names it)
     * @throws CollectiveException when the group cannot be joined
     */
    public static ProcessGroup fromEnvironment(Map<String, String> env, Duration timeout) {
        LaunchEnvironment launch = LaunchEnvironment.parse(env);
        if (launch.worldSize() == 1) {
            return new SingleProcessGroup();
        }
        return GlooProcessGroup.open(launch, timeout, env);
    }
}
