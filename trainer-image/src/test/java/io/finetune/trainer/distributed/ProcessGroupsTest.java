package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** World size 1 and the checks that need no peer: the same calls as at world N, no native library needed. */
class ProcessGroupsTest {

    @Test
    void worldSizeOneIsTheNoOpGroup() {
        for (Map<String, String> env : new Map[] {Map.of(), Map.of("WORLD_SIZE", "1", "RANK", "0")}) {
            try (ProcessGroup group = ProcessGroups.fromEnvironment(env, Duration.ofSeconds(5))) {
                assertThat(group).isInstanceOf(SingleProcessGroup.class);
                assertThat(group.rank()).isZero();
                assertThat(group.worldSize()).isEqualTo(1);
                float[] data = {1.5f, -2f};
                group.allReduceSum(data);
                group.allReduceMean(data);
                group.broadcast(data, 0);
                group.barrier();
                assertThat(data).containsExactly(1.5f, -2f);
                long[] flag = {1};
                group.allReduceMax(flag);
                assertThat(flag).containsExactly(1);
                FloatBuffer buffer = direct(3);
                buffer.put(0, 4f);
                group.allReduceMean(buffer);
                assertThat(buffer.get(0)).isEqualTo(4f);
            }
        }
    }

    @Test
    void badEnvironmentFailsBeforeAnyConnection() {
        assertThatThrownBy(() -> ProcessGroups.fromEnvironment(Map.of("WORLD_SIZE", "2", "RANK", "x"), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("RANK=x is not an integer");
    }

    @Test
    void closedGroupRefusesAndCloseIsIdempotent() {
        ProcessGroup group = new SingleProcessGroup();
        group.close();
        group.close();
        assertThatThrownBy(group::barrier).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void buffersTheEngineCannotUseAreRefusedWithTheFix() {
        ProcessGroup group = new SingleProcessGroup();
        assertThatThrownBy(() -> group.allReduceSum(FloatBuffer.allocate(4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("direct buffer");
        FloatBuffer bigEndian = ByteBuffer.allocateDirect(16).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        if (ByteOrder.nativeOrder() != ByteOrder.BIG_ENDIAN) {
            assertThatThrownBy(() -> group.allReduceSum(bigEndian)).hasMessageContaining("native order");
        }
        assertThatThrownBy(() -> group.allReduceSum(direct(4).asReadOnlyBuffer())).hasMessageContaining("read-only");
        assertThatThrownBy(() -> group.broadcast(new float[1], 1)).hasMessage("broadcast root 1 is not a rank of a group of 1");
    }

    @Test
    void missingBindingIsNamedWithItsVariable() {
        Path missing = Path.of("/nonexistent/libfinetune_gloo.so");
        assertThatThrownBy(() -> GlooLibrary.installed(Map.of(GlooLibrary.LIBRARY_ENV, missing.toString())))
                .isInstanceOf(CollectiveException.class)
                .hasMessage("the Gloo binding is not installed: FINETUNE_GLOO_LIBRARY=/nonexistent/libfinetune_gloo.so does not"
                        + " exist (hack/build-gloo-jni.sh builds it; the trainer images ship it)");
        assertThat(GlooLibrary.location(Map.of())).isEqualTo(Path.of(GlooLibrary.DEFAULT_PATH));
    }

    @Test
    void engineFailuresReadAsWhatHappened() {
        assertThat(new GlooError(0, 1, "Connection closed by peer [127.0.0.1]:5").describe("all-reduce", 20_000, 0, 3))
                .isEqualTo("all-reduce failed: connection to rank 1 closed (did rank 1 die?) [gloo: Connection closed by peer [127.0.0.1]:5]");
        assertThat(new GlooError(0, -1, "x").describe("barrier", 20_000, 0, 3)).startsWith("barrier failed: a connection to a peer closed");
        // with two ranks an unnamed peer can only be the other one
        assertThat(new GlooError(0, -1, "x").describe("barrier", 20_000, 1, 2)).startsWith("barrier failed: connection to rank 0 closed");
        assertThat(new GlooError(1, -1, "Timed out").describe("all-reduce", 2_500, 0, 3))
                .startsWith("all-reduce failed: timed out after 2.5 s waiting for a peer (hung, or slower than the timeout)");
        assertThat(new GlooError(2, -1, "bind: Address in use").describe("rendezvous", 1000, 0, 3))
                .isEqualTo("rendezvous failed: engine error [gloo: bind: Address in use]");
        assertThat(CollectiveException.of(0, 2, "x").getMessage()).isEqualTo("rank 0 of 2: x");
    }

    @Test
    void gloosInterfaceSettingWinsThenLoopbackMaster() {
        assertThat(TransportEndpoint.choose(Map.of("GLOO_SOCKET_IFNAME", "eth0"), "127.0.0.1", 0, 2))
                .isEqualTo(new TransportEndpoint("", "eth0"));
        assertThat(TransportEndpoint.choose(Map.of("FINETUNE_GLOO_IFACE", "eth1", "GLOO_SOCKET_IFNAME", "eth0"), "x", 0, 2))
                .isEqualTo(new TransportEndpoint("", "eth1"));
        assertThat(TransportEndpoint.choose(Map.of(), "127.0.0.1", 0, 2)).isEqualTo(new TransportEndpoint("127.0.0.1", ""));
    }

    private static FloatBuffer direct(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
