package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** http(s):// single files: resume with Range after a dropped connection, size checks, bounded retries, caching. */
class HttpStorageTest {
    @TempDir
    Path tmp;
    private FileServer server;
    private Storage storage;
    private final byte[] data = TestData.bytes(50_000, 7);

    @BeforeEach
    void start() throws Exception {
        server = new FileServer();
        server.files.put("/data/train.jsonl", data);
        storage = Storage.create(tmp.resolve("cache"), TestData.env(Map.of()));
    }

    @AfterEach
    void stop() {
        storage.close();
        server.close();
    }

    @Test
    void downloadsOnceAndServesTheVerifiedCopyFromTheCache() throws Exception {
        Path first = storage.fetchFile(server.url("/data/train.jsonl"));
        Path second = storage.fetchFile(server.url("/data/train.jsonl"));
        assertThat(Files.readAllBytes(first)).isEqualTo(data);
        assertThat(first.getFileName().toString()).isEqualTo("train.jsonl");
        assertThat(second).isEqualTo(first);
        assertThat(server.requests).hasSize(1);
    }

    @Test
    void resumesWithRangeAfterTheConnectionDropsMidFile() throws Exception {
        server.dropsLeft.set(1);
        server.dropAfterBytes = 20_000;
        Path got = storage.fetchFile(server.url("/data/train.jsonl"));
        assertThat(Files.readAllBytes(got)).isEqualTo(data);
        assertThat(server.ranges).hasSize(2);
        assertThat(server.ranges.get(0)).isEmpty();
        assertThat(server.ranges.get(1)).isEqualTo("bytes=20000-");
    }

    @Test
    void restartsFromZeroWhenTheServerIgnoresRange() throws Exception {
        server.dropsLeft.set(1);
        server.ignoreRange = true;
        Path got = storage.fetchFile(server.url("/data/train.jsonl"));
        assertThat(Files.readAllBytes(got)).isEqualTo(data);
    }

    @Test
    void aDownloadThatKeepsBeingCutFailsAsTruncatedAfterTheRetryBound() throws Exception {
        server.dropsLeft.set(100);
        server.dropAfterBytes = 0;
        String uri = server.url("/data/train.jsonl");
        assertThatThrownBy(() -> storage.fetchFile(uri)).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.reason()).isEqualTo(StorageException.Reason.TRUNCATED);
            assertThat(e.getMessage()).startsWith(uri + ": ");
        });
        assertThat(server.requests).hasSize(TestData.FAST_RETRY.maxAttempts());
        assertThat(TestData.contents(tmp.resolve("cache")).keySet()).as("nothing unverified is handed out")
                .noneMatch(k -> k.contains("files"));
    }

    @Test
    void attemptsThatMakeProgressDoNotUseUpTheRetryBound() throws Exception {
        server.dropsLeft.set(2 * TestData.FAST_RETRY.maxAttempts());
        server.dropAfterBytes = 5_000;
        assertThat(Files.readAllBytes(storage.fetchFile(server.url("/data/train.jsonl")))).isEqualTo(data);
        assertThat(server.ranges).hasSize(2 * TestData.FAST_RETRY.maxAttempts() + 1).contains("bytes=25000-");
    }

    @Test
    void transientServerErrorsAreRetriedThenSucceed() throws Exception {
        server.errorsLeft.set(2);
        assertThat(Files.readAllBytes(storage.fetchFile(server.url("/data/train.jsonl")))).isEqualTo(data);
        assertThat(server.requests).hasSize(3);
    }

    @Test
    void persistentServerErrorsStopAtTheBound() {
        server.errorsLeft.set(100);
        assertThatThrownBy(() -> storage.fetchFile(server.url("/data/train.jsonl")))
                .isInstanceOfSatisfying(StorageException.class, e -> {
                    assertThat(e.reason()).isEqualTo(StorageException.Reason.SERVER_ERROR);
                    assertThat(e.getMessage()).contains("HTTP 503");
                });
        assertThat(server.requests).hasSize(TestData.FAST_RETRY.maxAttempts());
    }

    @Test
    void missingFileIsNotFoundWithoutRetrying() {
        String uri = server.url("/data/missing.jsonl");
        assertThatThrownBy(() -> storage.fetchFile(uri)).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
            assertThat(e.getMessage()).startsWith(uri + ": ").contains("HTTP 404");
        });
        assertThat(server.requests).hasSize(1);
    }

    @Test
    void unreachableEndpointIsReportedAsSuch() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String uri = "http://127.0.0.1:" + closedPort + "/train.jsonl";
        assertThatThrownBy(() -> storage.fetchFile(uri)).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.reason()).isEqualTo(StorageException.Reason.UNREACHABLE);
            assertThat(e.getMessage()).startsWith(uri + ": ");
        });
    }

    @Test
    void httpCannotServeAModelDirectory() {
        assertThatThrownBy(() -> storage.fetchDirectory(server.url("/models/llama/")))
                .isInstanceOfSatisfying(StorageException.class,
                        e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.INVALID_URI));
    }
}
