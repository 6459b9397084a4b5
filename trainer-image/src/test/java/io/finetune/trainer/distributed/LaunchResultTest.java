package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.distributed.LaunchResult.ChildExit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one exit code of a launch, from its children's codes in the order they ended. */
class LaunchResultTest {
    @Test
    void allDoneIsZeroAllStoppedIs75() {
        assertThat(LaunchResult.compose(List.of(new ChildExit(1, 0), new ChildExit(0, 0)), Map.of()))
                .isEqualTo(new LaunchResult(0, null));
        assertThat(LaunchResult.compose(List.of(new ChildExit(1, 75), new ChildExit(0, 75)), Map.of()))
                .isEqualTo(new LaunchResult(75, null));
        assertThat(LaunchResult.compose(List.of(new ChildExit(0, 0), new ChildExit(1, 75)), Map.of()).exitCode())
                .as("none failed, one stopped: rerun to resume").isEqualTo(75);
    }

    @Test
    void theCauseIsTheFirstFailureThatDidNotMerelyLoseAPeerAndItsRankIsNamed() {
        // rank 1 lost its peer (4) and ended first; rank 0's own failure (1) is the cause; rank 3 was killed by the launcher
        LaunchResult r = LaunchResult.compose(List.of(new ChildExit(2, 0), new ChildExit(1, 4), new ChildExit(0, 1),
                new ChildExit(3, 137)), Map.of(3, "still running 330 s after rank 1 failed"));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.error()).isEqualTo("rank 0 exited with code 1; the cause: rank 1 ended first, with code 4, having lost a peer");
        // every failure a lost peer (e.g. one rank out of memory, exit 4, then the others): the first one
        LaunchResult peers = LaunchResult.compose(List.of(new ChildExit(1, 4), new ChildExit(0, 4)), Map.of());
        assertThat(peers.exitCode()).isEqualTo(4);
        assertThat(peers.error()).isEqualTo("rank 1 exited with code 4; the first of 2 ranks to fail");
        LaunchResult killed = LaunchResult.compose(List.of(new ChildExit(1, 137), new ChildExit(0, 75)),
                Map.of(1, "still running 30 s after SIGTERM"));
        assertThat(killed.exitCode()).isEqualTo(137);
        assertThat(killed.error()).isEqualTo("rank 1 exited with code 137 (killed by the launcher: still running 30 s after"
                + " SIGTERM); the first of 2 ranks to fail");
        assertThat(LaunchResult.compose(List.of(new ChildExit(0, 2)), Map.of()).error()).isEqualTo("rank 0 exited with code 2");
    }
}
