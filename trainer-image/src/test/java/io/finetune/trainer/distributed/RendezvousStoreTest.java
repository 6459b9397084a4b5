package io.finetune.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The rendezvous store on its own (pure Java, 127.0.0.1): waits, retries and the messages of each failure. */
class RendezvousStoreTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void getWaitsForAnotherRanksSet() throws Exception {
        try (RendezvousServer server = RendezvousServer.start(LOOPBACK, 0);
             RendezvousStore zero = RendezvousStore.connect(0, 2, "127.0.0.1", server.port(), Duration.ofSeconds(10));
             RendezvousStore one = RendezvousStore.connect(1, 2, "127.0.0.1", server.port(), Duration.ofSeconds(10))) {
            CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(() -> zero.get("1"));
            Thread.sleep(300);
            assertThat(waiting).as("no value yet").isNotDone();
            one.set("1", "address of rank 1".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(waiting.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo("address of rank 1");
            one.await(new String[] {"1"}, 1000);
            assertThat(one.get("1")).isEqualTo("address of rank 1".getBytes(StandardCharsets.UTF_8));
            zero.set("empty", new byte[0]);
            assertThat(one.get("empty")).isEmpty();
        }
    }

    @Test
    void connectRetriesUntilRankZeroListens() throws Exception {
        int port = Ranks.freePort();
        CompletableFuture<RendezvousStore> connecting =
                CompletableFuture.supplyAsync(() -> RendezvousStore.connect(1, 2, "127.0.0.1", port, Duration.ofSeconds(20)));
        Thread.sleep(700);
        assertThat(connecting).isNotDone();
        try (RendezvousServer server = RendezvousServer.start(LOOPBACK, port);
             RendezvousStore store = connecting.get(20, TimeUnit.SECONDS)) {
            store.set("k", new byte[] {7});
            assertThat(store.get("k")).containsExactly(7);
        }
    }

    @Test
    void noRankZeroFailsAtTheTimeoutNamingTheAddress() throws Exception {
        int port = Ranks.freePort();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> RendezvousStore.connect(1, 2, "127.0.0.1", port, Duration.ofMillis(1500)))
                .isInstanceOf(CollectiveException.class)
                .hasMessageStartingWith("rank 1 of 2: cannot reach rank 0's rendezvous store at MASTER_ADDR=127.0.0.1 MASTER_PORT="
                        + port + " within 1.5 s (ConnectException")
                .hasMessageEndingWith("is rank 0 up and MASTER_ADDR its address?)");
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(1400L, 10_000L);
    }

    @Test
    void aRankThatNeverPublishesIsNamed() throws Exception {
        try (RendezvousServer server = RendezvousServer.start(LOOPBACK, 0);
             RendezvousStore zero = RendezvousStore.connect(0, 3, "127.0.0.1", server.port(), Duration.ofSeconds(1))) {
            assertThatThrownBy(() -> zero.await(new String[] {"2"}, 1000))
                    .isInstanceOf(CollectiveException.class)
                    .hasMessage("rank 0 of 3: rendezvous at MASTER_ADDR=127.0.0.1 MASTER_PORT=" + server.port()
                            + " timed out after 1 s waiting for rank 2 (did rank 2 start? all WORLD_SIZE=3 ranks must join)");
            assertThatThrownBy(() -> zero.get("rank_1")).hasMessageContaining("waiting for rank 1 (did rank 1 start?");
        }
    }

    @Test
    void rankZeroGoingAwayIsReported() throws Exception {
        RendezvousServer server = RendezvousServer.start(LOOPBACK, 0);
        try (RendezvousStore one = RendezvousStore.connect(1, 2, "127.0.0.1", server.port(), Duration.ofSeconds(30))) {
            CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(() -> one.get("0"));
            Thread.sleep(300);
            server.close();
            assertThat(waiting).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                    .havingRootCause().isInstanceOf(CollectiveException.class)
                    .withMessageContaining("rank 1 of 2: rendezvous store of rank 0 at MASTER_ADDR=127.0.0.1")
                    .withMessageContaining("closed the connection (did rank 0 die?)");
        } finally {
            server.close();
        }
    }
}
