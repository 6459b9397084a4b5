package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** torchrun's variables: each bad one gets its own message naming it. No processes, no native code. */
class LaunchEnvironmentTest {

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    private static Map<String, String> world2(String... overrides) {
        Map<String, String> env = env("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "trainer-0.job", "MASTER_PORT", "29500");
        env.putAll(env(overrides));
        return env;
    }

    @Test
    void noWorldSizeMeansOneProcess() {
        assertThat(LaunchEnvironment.parse(env())).isEqualTo(LaunchEnvironment.single());
        assertThat(LaunchEnvironment.parse(env("RANK", "0"))).isEqualTo(LaunchEnvironment.single());
        assertThat(LaunchEnvironment.parse(env("WORLD_SIZE", "1", "RANK", "0"))).isEqualTo(LaunchEnvironment.single());
        assertThat(LaunchEnvironment.parse(env("WORLD_SIZE", "1"))).as("MASTER_* not needed alone").isEqualTo(LaunchEnvironment.single());
    }

    @Test
    void aValidWorldIsReadAsGiven() {
        assertThat(LaunchEnvironment.parse(world2())).isEqualTo(new LaunchEnvironment(1, 2, "trainer-0.job", 29500));
        assertThat(LaunchEnvironment.parse(world2("RANK", " 0 ", "MASTER_ADDR", " 10.0.0.5 ")))
                .isEqualTo(new LaunchEnvironment(0, 2, "10.0.0.5", 29500));
    }

    @Test
    void eachBadVariableIsNamed() {
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("RANK", "one")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("RANK=one is not an integer");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("RANK", "2")))
                .hasMessage("RANK=2 must be less than WORLD_SIZE=2");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("RANK", "-1")))
                .hasMessage("RANK=-1 must be at least 0");
        Map<String, String> noRank = world2();
        noRank.remove("RANK");
        assertThatThrownBy(() -> LaunchEnvironment.parse(noRank)).hasMessage("RANK is not set (WORLD_SIZE=2)");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("WORLD_SIZE", "two")))
                .hasMessage("WORLD_SIZE=two is not an integer");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("WORLD_SIZE", "0")))
                .hasMessage("WORLD_SIZE=0 must be at least 1");
        assertThatThrownBy(() -> LaunchEnvironment.parse(env("RANK", "3")))
                .hasMessage("RANK=3 is set but WORLD_SIZE is not");
        Map<String, String> noMaster = world2();
        noMaster.remove("MASTER_ADDR");
        assertThatThrownBy(() -> LaunchEnvironment.parse(noMaster))
                .hasMessage("MASTER_ADDR is not set (WORLD_SIZE=2 needs the address of rank 0)");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("MASTER_ADDR", "  ")))
                .hasMessageStartingWith("MASTER_ADDR is not set");
        Map<String, String> noPort = world2();
        noPort.remove("MASTER_PORT");
        assertThatThrownBy(() -> LaunchEnvironment.parse(noPort)).hasMessageStartingWith("MASTER_PORT is not set (WORLD_SIZE=2");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("MASTER_PORT", "70000")))
                .hasMessage("MASTER_PORT=70000 is out of range 1-65535");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("MASTER_PORT", "0")))
                .hasMessage("MASTER_PORT=0 is out of range 1-65535");
        assertThatThrownBy(() -> LaunchEnvironment.parse(world2("MASTER_PORT", "http")))
                .hasMessage("MASTER_PORT=http is not an integer");
    }
}
