package io.finetune.trainer.distributed;

import java.util.Map;

/**
 * torchrun's launch contract, validated: {@code RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT} (set by
 * torchrun, or by our {@link Launcher}, also from Kubeflow's {@code PET_*} names via {@link NodeTopology}). Unset
 * {@code WORLD_SIZE} means one process. Each bad variable gets its own message naming it, so the trainer's one
 * {@code error:} line says what to fix.
 *
 * @param rank this process's rank
 * @param worldSize the number of processes
 * @param masterAddress where rank 0 hosts the rendezvous store (null at world size 1)
 * @param masterPort its port (0 at world size 1)
 */
public record LaunchEnvironment(int rank, int worldSize, String masterAddress, int masterPort) {
    public static final String RANK = "RANK";
    public static final String WORLD_SIZE = "WORLD_SIZE";
    public static final String MASTER_ADDR = "MASTER_ADDR";
    public static final String MASTER_PORT = "MASTER_PORT";

    /** One process: what an environment without WORLD_SIZE describes. */
    public static LaunchEnvironment single() {
        return new LaunchEnvironment(0, 1, null, 0);
    }

    /**
     * Reads and validates the variables.
     *
     * @throws IllegalArgumentException naming the variable: not an integer, out of range, or missing
     */
    public static LaunchEnvironment parse(Map<String, String> env) {
        String worldText = env.get(WORLD_SIZE);
        String rankText = env.get(RANK);
        if (worldText == null || worldText.isBlank()) {
            if (rankText != null && !rankText.isBlank() && !rankText.trim().equals("0")) {
                throw new IllegalArgumentException(RANK + "=" + rankText + " is set but " + WORLD_SIZE + " is not");
            }
            return single();
        }
        int worldSize = integer(WORLD_SIZE, worldText);
        if (worldSize < 1) {
            throw new IllegalArgumentException(WORLD_SIZE + "=" + worldText + " must be at least 1");
        }
        int rank = 0;
        if (rankText == null || rankText.isBlank()) {
            if (worldSize > 1) {
                throw new IllegalArgumentException(RANK + " is not set (" + WORLD_SIZE + "=" + worldSize + ")");
            }
        } else {
            rank = integer(RANK, rankText);
        }
        if (rank < 0) {
            throw new IllegalArgumentException(RANK + "=" + rankText + " must be at least 0");
        }
        if (rank >= worldSize) {
            throw new IllegalArgumentException(RANK + "=" + rank + " must be less than " + WORLD_SIZE + "=" + worldSize);
        }
        if (worldSize == 1) {
            return single();
        }
        String master = env.get(MASTER_ADDR);
        if (master == null || master.isBlank()) {
            throw new IllegalArgumentException(MASTER_ADDR + " is not set (" + WORLD_SIZE + "=" + worldSize
                    + " needs the address of rank 0)");
        }
        String portText = env.get(MASTER_PORT);
        if (portText == null || portText.isBlank()) {
            throw new IllegalArgumentException(MASTER_PORT + " is not set (" + WORLD_SIZE + "=" + worldSize
                    + " needs rank 0's rendezvous port, e.g. 29500)");
        }
        int port = integer(MASTER_PORT, portText);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(MASTER_PORT + "=" + port + " is out of range 1-65535");
        }
        return new LaunchEnvironment(rank, worldSize, master.trim(), port);
    }

    static int integer(String name, String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + text + " is not an integer");
        }
    }
}
