package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pod's topology from Kubeflow Trainer's PET_* variables or the contract's FINETUNE_NPROC: each bad one is named. */
class NodeTopologyTest {
    private static final String NPROC = "FINETUNE_NPROC";

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    private static Map<String, String> twoNodes(String... overrides) {
        Map<String, String> env = env("PET_NNODES", "2", "PET_NPROC_PER_NODE", "4", "PET_NODE_RANK", "1",
                "PET_MASTER_ADDR", "job-node-0-0.job", "PET_MASTER_PORT", "29500");
        env.putAll(env(overrides));
        return env;
    }

    private static NodeTopology parse(Map<String, String> env) {
        return NodeTopology.fromEnvironment(env, NPROC);
    }

    @Test
    void nothingSetIsOneProcess() {
        assertThat(parse(env())).isEqualTo(NodeTopology.standalone(1));
        assertThat(parse(env()).worldSize()).isEqualTo(1);
    }

    @Test
    void theContractsProcessCountIsOneNode() {
        assertThat(parse(env(NPROC, "2"))).isEqualTo(NodeTopology.standalone(2));
    }

    @Test
    void petVariablesGiveRanksWorldAndMaster() {
        NodeTopology t = parse(twoNodes());
        assertThat(t).isEqualTo(new NodeTopology(2, 4, 1, "job-node-0-0.job", 29500));
        assertThat(t.worldSize()).isEqualTo(8);
        assertThat(t.globalRank(0)).isEqualTo(4);
        assertThat(t.globalRank(3)).isEqualTo(7);
        assertThat(parse(twoNodes("PET_MASTER_PORT", " "))).as("torchrun's default port").extracting(NodeTopology::masterPort)
                .isEqualTo(29500);
        assertThat(parse(twoNodes(NPROC, "4"))).as("both set and agreeing").isEqualTo(t);
    }

    @Test
    void oneNodeKeepsTheRendezvousOnLoopback() {
        NodeTopology t = parse(env("PET_NNODES", "1", "PET_NPROC_PER_NODE", "2", "PET_NODE_RANK", "0",
                "PET_MASTER_ADDR", "job-node-0-0.job", "PET_MASTER_PORT", "29500"));
        assertThat(t).isEqualTo(NodeTopology.standalone(2));
        assertThat(parse(env("PET_NPROC_PER_NODE", "3"))).isEqualTo(NodeTopology.standalone(3));
    }

    @Test
    void eachBadVariableIsNamed() {
        assertThatThrownBy(() -> parse(twoNodes("PET_NNODES", "two"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("PET_NNODES=two is not an integer");
        assertThatThrownBy(() -> parse(twoNodes("PET_NNODES", "0"))).hasMessage("PET_NNODES=0 must be at least 1");
        assertThatThrownBy(() -> parse(twoNodes("PET_NNODES", "1:4")))
                .hasMessage("PET_NNODES=1:4 is an elastic range; the trainer needs a fixed number of nodes");
        assertThatThrownBy(() -> parse(twoNodes("PET_NPROC_PER_NODE", "auto")))
                .hasMessage("PET_NPROC_PER_NODE=auto is not supported; give the number of processes (one per GPU)");
        assertThatThrownBy(() -> parse(twoNodes("PET_NPROC_PER_NODE", "-2"))).hasMessage("PET_NPROC_PER_NODE=-2 must be at least 1");
        assertThatThrownBy(() -> parse(twoNodes("PET_NODE_RANK", "2")))
                .hasMessage("PET_NODE_RANK=2 must be between 0 and 1 (PET_NNODES=2)");
        assertThatThrownBy(() -> parse(twoNodes("PET_NODE_RANK", "x"))).hasMessage("PET_NODE_RANK=x is not an integer");
        Map<String, String> noRank = twoNodes();
        noRank.remove("PET_NODE_RANK");
        assertThatThrownBy(() -> parse(noRank)).hasMessage("PET_NODE_RANK is not set (PET_NNODES=2 needs this node's index, 0 to 1)");
        Map<String, String> noMaster = twoNodes();
        noMaster.remove("PET_MASTER_ADDR");
        assertThatThrownBy(() -> parse(noMaster))
                .hasMessage("PET_MASTER_ADDR is not set (PET_NNODES=2 needs the address of the node with rank 0)");
        assertThatThrownBy(() -> parse(twoNodes("PET_MASTER_PORT", "70000"))).hasMessage("PET_MASTER_PORT=70000 is out of range 1-65535");
        assertThatThrownBy(() -> parse(twoNodes("PET_MASTER_PORT", "http"))).hasMessage("PET_MASTER_PORT=http is not an integer");
        assertThatThrownBy(() -> parse(twoNodes(NPROC, "2")))
                .hasMessage("PET_NPROC_PER_NODE=4 and FINETUNE_NPROC=2 disagree on the processes per node; set one of them");
        assertThatThrownBy(() -> parse(env(NPROC, "0"))).hasMessage("FINETUNE_NPROC=0 must be at least 1");
        assertThatThrownBy(() -> parse(env(NPROC, "many"))).hasMessage("FINETUNE_NPROC=many is not an integer");
    }
}
