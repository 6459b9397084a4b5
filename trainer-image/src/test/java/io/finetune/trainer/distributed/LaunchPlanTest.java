package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.distributed.LaunchPlan.ThreadBudget;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The thread split, the marker that keeps a child from launching again, and the child command line. */
class LaunchPlanTest {
    @Test
    void unsetThreadsAreTheCoresSplitNeverBelowOne() {
        assertThat(LaunchPlan.threadsPerChild(Map.of(), 16, 4, ThreadBudget.PER_PROCESS_WHEN_SET)).isEqualTo(4);
        assertThat(LaunchPlan.threadsPerChild(Map.of(), 7, 2, ThreadBudget.PER_PROCESS_WHEN_SET)).isEqualTo(3);
        assertThat(LaunchPlan.threadsPerChild(Map.of(), 2, 3, ThreadBudget.PER_PROCESS_WHEN_SET)).isEqualTo(1);
        assertThat(LaunchPlan.threadsPerChild(Map.of("OMP_NUM_THREADS", "zero"), 8, 2, ThreadBudget.PER_PROCESS_WHEN_SET))
                .as("not a count: as if unset").isEqualTo(4);
    }

    @Test
    void aUsersValueIsPerProcessTheOperatorsIsShared() {
        assertThat(LaunchPlan.threadsPerChild(Map.of("OMP_NUM_THREADS", "3"), 16, 4, ThreadBudget.PER_PROCESS_WHEN_SET)).isEqualTo(3);
        assertThat(LaunchPlan.threadsPerChild(Map.of("OMP_NUM_THREADS", "8"), 16, 4, ThreadBudget.SHARED_BY_CHILDREN)).isEqualTo(2);
        assertThat(LaunchPlan.threadsPerChild(Map.of(), 6, 2, ThreadBudget.SHARED_BY_CHILDREN)).isEqualTo(3);
    }

    @Test
    void aChildOrATorchrunProcessNeverLaunches() {
        assertThat(LaunchPlan.startedByLauncher(Map.of())).isFalse();
        assertThat(LaunchPlan.startedByLauncher(Map.of("FINETUNE_LAUNCHER_PID", "42"))).isTrue();
        assertThat(LaunchPlan.startedByLauncher(Map.of("RANK", "0"))).isTrue();
        assertThat(LaunchPlan.startedByLauncher(Map.of("WORLD_SIZE", "2"))).isTrue();
        assertThat(LaunchPlan.startedByLauncher(Map.of("RANK", " "))).isFalse();
        LaunchPlan plan = new LaunchPlan(NodeTopology.standalone(2), "127.0.0.1", 4000, 1);
        for (Map<String, String> child : plan.childEnvironments(Map.of(), 42)) {
            assertThat(LaunchPlan.startedByLauncher(child)).isTrue();
            assertThat(LaunchEnvironment.parse(child).worldSize()).as("each child joins the group").isEqualTo(2);
        }
    }

    @Test
    void theChildRunsThisJvmAgainWithoutADebuggerAgent() {
        ChildCommand c = ChildCommand.ofThisJvm("io.example.Main", List.of("run", "job.yaml"));
        assertThat(c.executable()).endsWith("java");
        assertThat(c.classPath()).isEqualTo(System.getProperty("java.class.path"));
        List<String> line = c.commandLine();
        assertThat(line.subList(line.size() - 5, line.size())).containsExactly("-cp", c.classPath(), "io.example.Main", "run", "job.yaml");
        assertThat(ChildCommand.isDebugger("-agentlib:jdwp=transport=dt_socket,server=y,address=5005")).isTrue();
        assertThat(ChildCommand.isDebugger("-Xmx512m")).isFalse();
        assertThat(c.jvmArguments()).noneMatch(ChildCommand::isDebugger);
    }
}
