package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The launcher's variables are enough to form a real Gloo group: N launched children join on 127.0.0.1 and all-reduce; and
 * a rank that dies makes the others fail by themselves within the collective timeout, the launcher reporting the dead
 * rank. Needs the built binding ({@link GlooTestLibrary}).
 */
class LauncherGlooTest {
    private static final long BOUND_SECONDS = 90;

    private static Map<String, String> base() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put(GlooLibrary.LIBRARY_ENV, GlooTestLibrary.require().toString());
        env.remove(TransportEndpoint.IFACE_ENV);
        env.remove(TransportEndpoint.TORCH_IFACE_ENV);
        return env;
    }

    @Test
    void threeLaunchedRanksFormAGroupAndAllReduce() throws Exception {
        var o = LauncherTests.launch(LauncherTests.children(NodeTopology.standalone(3), base(), 3, "gloo", "20000"),
                Duration.ofSeconds(30), BOUND_SECONDS);
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        for (int rank = 0; rank < 3; rank++) {
            assertThat(o.out()).contains("[rank " + rank + "] sum=6.0 at rank " + rank + " of 3");
        }
    }

    @Test
    void aRankThatDiesMakesTheOthersFailWithinTheTimeoutAndIsNamed() throws Exception {
        Duration collective = Duration.ofSeconds(3);
        var o = LauncherTests.launch(LauncherTests.children(NodeTopology.standalone(3), base(), 3, "gloo",
                Long.toString(collective.toMillis()), "1"), collective.plusSeconds(30), BOUND_SECONDS);
        assertThat(o.code()).as(o.out() + o.err()).isEqualTo(9);
        assertThat(o.errorLines()).as(o.err()).singleElement().asString()
                .startsWith("error: rank 1 exited with code 9; the first of 3 ranks to fail");
        assertThat(o.err()).contains("[rank 1] error: rank 1 dies before the all-reduce")
                .containsPattern("\\[rank 0\\] error: ").containsPattern("\\[rank 2\\] error: ")
                .as("they failed by themselves, not killed").doesNotContain("launcher: killing");
    }
}
