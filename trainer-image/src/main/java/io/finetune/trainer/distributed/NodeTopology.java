package io.finetune.trainer.distributed;

import java.util.Map;

/**
 * Where this node sits in a data-parallel job, as torchrun's {@code --nnodes}, {@code --nproc-per-node}, {@code --node-rank},
 * {@code --master-addr} and {@code --master-port} say it, or Kubeflow Trainer's {@code PET_*} variables (the same flags,
 * as torchrun reads them from the environment). A {@link Launcher} starts {@link #processesPerNode} children here; child
 * {@code localRank} gets the global rank {@code nodeRank * processesPerNode + localRank} in a world of
 * {@code nodes * processesPerNode}.
 *
 * @param nodes            the number of nodes (pods), at least 1
 * @param processesPerNode processes started on each node, at least 1
 * @param nodeRank         this node's index, 0 to nodes - 1
 * @param masterAddress    rank 0's host; null on a single node, where the rendezvous stays on 127.0.0.1
 * @param masterPort       rank 0's rendezvous port; 0 on a single node, where the launcher picks a free one
 */
public record NodeTopology(int nodes, int processesPerNode, int nodeRank, String masterAddress, int masterPort) {
    public static final String PET_NNODES = "PET_NNODES";
    public static final String PET_NPROC_PER_NODE = "PET_NPROC_PER_NODE";
    public static final String PET_NODE_RANK = "PET_NODE_RANK";
    public static final String PET_MASTER_ADDR = "PET_MASTER_ADDR";
    public static final String PET_MASTER_PORT = "PET_MASTER_PORT";
    /** torchrun's default {@code --master-port}, used when several nodes are given no port. */
    public static final int DEFAULT_MASTER_PORT = 29500;

    public NodeTopology {
        if (nodes < 1 || processesPerNode < 1 || nodeRank < 0 || nodeRank >= nodes) {
            throw new IllegalArgumentException("bad topology: " + nodes + " nodes x " + processesPerNode + ", node rank " + nodeRank);
        }
        if (nodes > 1 && (masterAddress == null || masterPort < 1)) {
            throw new IllegalArgumentException("several nodes need rank 0's address and port");
        }
    }

    /** {@code torchrun --standalone --nproc-per-node n}: one node, rendezvous on 127.0.0.1 at a free port. */
    public static NodeTopology standalone(int processes) {
        if (processes < 1) {
            throw new IllegalArgumentException("the number of processes must be at least 1, not " + processes);
        }
        return new NodeTopology(1, processes, 0, null, 0);
    }

    public int worldSize() {
        return nodes * processesPerNode;
    }

    /** The global rank of this node's {@code localRank}-th child. */
    public int globalRank(int localRank) {
        return nodeRank * processesPerNode + localRank;
    }

    /** True when the whole world runs on this node, so the rendezvous never needs a name that resolves elsewhere. */
    public boolean singleNode() {
        return nodes == 1;
    }

    /**
     * The pod's topology: the {@code PET_*} variables when any is set; else {@code nprocVariable} (the trainer contract's
     * process count, for a pod the operator gave several GPUs) as one node; else one process. On one node the
     * {@code PET_MASTER_*} values are checked but the rendezvous stays on 127.0.0.1 (it never leaves the pod, so it does not
     * wait for a Service's DNS name).
     *
     * @param nprocVariable the name of the contract's processes-per-pod variable
     * @throws IllegalArgumentException naming the variable: not an integer, out of range, missing, or two that disagree
     */
    public static NodeTopology fromEnvironment(Map<String, String> env, String nprocVariable) {
        String contractText = value(env, nprocVariable);
        Integer contractNproc = contractText == null ? null : atLeastOne(nprocVariable, contractText);
        boolean pet = value(env, PET_NNODES) != null || value(env, PET_NPROC_PER_NODE) != null || value(env, PET_NODE_RANK) != null;
        if (!pet) {
            return standalone(contractNproc == null ? 1 : contractNproc);
        }
        int nodes = value(env, PET_NNODES) == null ? 1 : nodes(env.get(PET_NNODES));
        String nprocText = value(env, PET_NPROC_PER_NODE);
        int nproc = nprocText == null ? (contractNproc == null ? 1 : contractNproc) : processesPerNode(nprocText);
        if (nprocText != null && contractNproc != null && contractNproc != nproc) {
            throw new IllegalArgumentException(PET_NPROC_PER_NODE + "=" + nproc + " and " + nprocVariable + "=" + contractNproc
                    + " disagree on the processes per node; set one of them");
        }
        String rankText = value(env, PET_NODE_RANK);
        int nodeRank = rankText == null ? 0 : LaunchEnvironment.integer(PET_NODE_RANK, rankText);
        if (rankText == null && nodes > 1) {
            throw new IllegalArgumentException(PET_NODE_RANK + " is not set (" + PET_NNODES + "=" + nodes
                    + " needs this node's index, 0 to " + (nodes - 1) + ")");
        }
        if (nodeRank < 0 || nodeRank >= nodes) {
            throw new IllegalArgumentException(PET_NODE_RANK + "=" + rankText + " must be between 0 and " + (nodes - 1)
                    + " (" + PET_NNODES + "=" + nodes + ")");
        }
        String address = value(env, PET_MASTER_ADDR);
        String portText = value(env, PET_MASTER_PORT);
        int port = portText == null ? DEFAULT_MASTER_PORT : LaunchEnvironment.integer(PET_MASTER_PORT, portText);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(PET_MASTER_PORT + "=" + portText + " is out of range 1-65535");
        }
        if (nodes == 1) {
            return new NodeTopology(1, nproc, 0, null, 0);
        }
        if (address == null) {
            throw new IllegalArgumentException(PET_MASTER_ADDR + " is not set (" + PET_NNODES + "=" + nodes
                    + " needs the address of the node with rank 0)");
        }
        return new NodeTopology(nodes, nproc, nodeRank, address, port);
    }

    private static int nodes(String text) {
        if (text.contains(":")) {
            throw new IllegalArgumentException(PET_NNODES + "=" + text.trim()
                    + " is an elastic range; the trainer needs a fixed number of nodes");
        }
        return atLeastOne(PET_NNODES, text);
    }

    private static int processesPerNode(String text) {
        String t = text.trim();
        if (t.equals("auto") || t.equals("gpu") || t.equals("cpu")) {
            throw new IllegalArgumentException(PET_NPROC_PER_NODE + "=" + t
                    + " is not supported; give the number of processes (one per GPU)");
        }
        return atLeastOne(PET_NPROC_PER_NODE, text);
    }

    private static int atLeastOne(String name, String text) {
        int n = LaunchEnvironment.integer(name, text);
        if (n < 1) {
            throw new IllegalArgumentException(name + "=" + text.trim() + " must be at least 1");
        }
        return n;
    }

    private static String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }
}
