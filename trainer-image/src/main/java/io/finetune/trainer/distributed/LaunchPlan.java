package io.finetune.trainer.distributed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What each child of a {@link Launcher} gets in its environment, as torchrun sets it: {@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code GROUP_RANK} (the node's rank), {@code MASTER_ADDR},
 * {@code MASTER_PORT}, {@code OMP_NUM_THREADS}, and {@link #LAUNCHER_PID}, the marker that makes a child train instead of
 * launching again.
 *
 * <p>Threads: torchrun sets {@code OMP_NUM_THREADS=1} when it is unset, which leaves a CPU run on N processes using N
 * cores however many the machine has. We split the cores instead ({@code max(1, cores / N)}), so N processes on a
 * machine together use what one process would, neither idle cores nor N processes each sized for the whole machine
 * fighting over it. What counts as set is {@link ThreadBudget}'s.
 *
 * @param topology          this node's place in the job
 * @param masterAddress     rank 0's host, resolved (127.0.0.1 on one node)
 * @param masterPort        rank 0's rendezvous port, resolved (a free port on one node)
 * @param threadsPerChild   the children's OMP_NUM_THREADS
 */
public record LaunchPlan(NodeTopology topology, String masterAddress, int masterPort, int threadsPerChild) {
    public static final String LOCAL_RANK = "LOCAL_RANK";
    public static final String LOCAL_WORLD_SIZE = "LOCAL_WORLD_SIZE";
    public static final String GROUP_RANK = "GROUP_RANK";
    public static final String OMP_NUM_THREADS = "OMP_NUM_THREADS";
    /** Set in every child to the launcher's pid: a process that has it trains and never launches. */
    public static final String LAUNCHER_PID = "FINETUNE_LAUNCHER_PID";
    static final String LOOPBACK = "127.0.0.1";

    /** How the launcher's own {@code OMP_NUM_THREADS} is read. */
    public enum ThreadBudget {
        /** {@code run}: a value the user set is each process's, as under torchrun; unset, the cores are split. */
        PER_PROCESS_WHEN_SET,
        /** {@code pod}: the operator sets the container's CPU limit there (trainer contract), which the children share. */
        SHARED_BY_CHILDREN
    }

    /**
     * Resolves the master (a free port on 127.0.0.1 on one node) and the thread split.
     *
     * @param env the launcher's environment
     * @param availableProcessors the cores this process may use ({@code Runtime.availableProcessors()}, cgroup-aware)
     */
    public static LaunchPlan resolve(NodeTopology topology, Map<String, String> env, int availableProcessors, ThreadBudget budget) {
        String address = topology.singleNode() ? LOOPBACK : topology.masterAddress();
        int port = topology.singleNode() ? freeLoopbackPort() : topology.masterPort();
        return new LaunchPlan(topology, address, port, threadsPerChild(env, availableProcessors, topology.processesPerNode(), budget));
    }

    static int threadsPerChild(Map<String, String> env, int availableProcessors, int children, ThreadBudget budget) {
        String set = env.get(OMP_NUM_THREADS);
        Integer value = null;
        if (set != null && set.trim().matches("\\d+") && Integer.parseInt(set.trim()) > 0) {
            value = Integer.parseInt(set.trim());
        }
        if (value != null && budget == ThreadBudget.PER_PROCESS_WHEN_SET) {
            return value;
        }
        int cores = value != null ? value : availableProcessors;
        return Math.max(1, cores / children);
    }

    /**
     * True when this process was started to train, not to launch: by a {@link Launcher} ({@link #LAUNCHER_PID}) or by
     * another launcher such as torchrun ({@code RANK} or {@code WORLD_SIZE} already set).
     */
    public static boolean startedByLauncher(Map<String, String> env) {
        return present(env, LAUNCHER_PID) || present(env, LaunchEnvironment.RANK) || present(env, LaunchEnvironment.WORLD_SIZE);
    }

    /** One environment per child, in local-rank order: {@code base} with the launch variables put over it. */
    public List<Map<String, String>> childEnvironments(Map<String, String> base, long launcherPid) {
        List<Map<String, String>> envs = new ArrayList<>();
        for (int local = 0; local < topology.processesPerNode(); local++) {
            Map<String, String> env = new HashMap<>(base);
            env.put(LaunchEnvironment.RANK, Integer.toString(topology.globalRank(local)));
            env.put(LaunchEnvironment.WORLD_SIZE, Integer.toString(topology.worldSize()));
            env.put(LOCAL_RANK, Integer.toString(local));
            env.put(LOCAL_WORLD_SIZE, Integer.toString(topology.processesPerNode()));
            env.put(GROUP_RANK, Integer.toString(topology.nodeRank()));
            env.put(LaunchEnvironment.MASTER_ADDR, masterAddress);
            env.put(LaunchEnvironment.MASTER_PORT, Integer.toString(masterPort));
            env.put(OMP_NUM_THREADS, Integer.toString(threadsPerChild));
            env.put(LAUNCHER_PID, Long.toString(launcherPid));
            envs.add(env);
        }
        return envs;
    }

    /** One line for the log: what was launched where. */
    public String describe() {
        return "launching " + topology.processesPerNode() + " process" + (topology.processesPerNode() == 1 ? "" : "es")
                + " (ranks " + topology.globalRank(0) + "-" + topology.globalRank(topology.processesPerNode() - 1) + " of "
                + topology.worldSize() + ", node " + topology.nodeRank() + " of " + topology.nodes() + ", master "
                + masterAddress + ":" + masterPort + ", OMP_NUM_THREADS=" + threadsPerChild + " each)";
    }

    /**
     * A port nobody listens on now. Rank 0 binds it a moment later; another process could take it in between, which then
     * fails the rendezvous with a clear error rather than a hang (torchrun --standalone has the same window).
     */
    static int freeLoopbackPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + LOOPBACK + " for the rendezvous", e);
        }
    }

    private static boolean present(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }
}
