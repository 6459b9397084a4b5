package io.finetune.trainer.storage;

import io.finetune.trainer.layout.RunLayout;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile storage: HTTP servers on 127.0.0.1 that lie about sizes, cut bodies, redirect elsewhere or fail every time, and
 * local directories whose manifest.json points outside them. Each ends in a StorageException of the right reason naming
 * the URI, with nothing written outside the cache and no existing file changed.
 */
class StorageHostileTest {
    @TempDir
    Path tmp;
    private HttpServer server;
    private HttpServer other;
    private final Map<String, Handler> routes = new ConcurrentHashMap<>();
    private final List<String> otherHostHeaders = new CopyOnWriteArrayList<>();
    private Storage storage;

    @FunctionalInterface
    interface Handler {
        void handle(HttpExchange ex) throws IOException;
    }

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            Handler h = routes.get(ex.getRequestURI().getPath());
            if (h == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                h.handle(ex);
            }
            ex.close();
        });
        server.start();
        // "Another host": a second server on another loopback port; it records whether credentials reached it.
        other = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        other.createContext("/", ex -> {
            otherHostHeaders.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            byte[] body = "{\"prompt\": \"a\", \"completion\": \"b\"}\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        other.start();
        storage = Storage.create(tmp.resolve("cache"), TestData.env(Map.of("HF_TOKEN", "hf_secret_token_value_123456")));
    }

    @AfterEach
    void stop() {
        storage.close();
        server.stop(0);
        other.stop(0);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private static void body(HttpExchange ex, int status, long announced, byte[] sent) throws IOException {
        ex.sendResponseHeaders(status, announced);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(sent);
        } catch (IOException e) {
            // the client gave up on a lying response: expected
        }
    }

    @Test
    void aBodyThatStallsHalfWayEveryTimeIsTruncatedAfterBoundedRetries() {
        AtomicInteger calls = new AtomicInteger();
        routes.put("/t.jsonl", ex -> {
            calls.incrementAndGet();
            body(ex, 200, 5000, new byte[100]);   // 100 of 5000 bytes, then silence on an open connection
        });
        System.setProperty(HttpDownloader.STALL_TIMEOUT_PROPERTY, "1");
        try (Storage stalling = Storage.create(tmp.resolve("cache"), TestData.env(Map.of()))) {
            assertThatThrownBy(() -> stalling.fetchFile(url("/t.jsonl")))
                    .isInstanceOfSatisfying(StorageException.class,
                            e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.TRUNCATED))
                    .hasMessageContaining(url("/t.jsonl"));
        } finally {
            System.clearProperty(HttpDownloader.STALL_TIMEOUT_PROPERTY);
        }
        // the first attempt got 100 bytes (progress: resumed without counting), then maxAttempts without progress
        assertThat(calls.get()).isEqualTo(TestData.FAST_RETRY.maxAttempts() + 1);
        assertThat(cachedFiles()).isEmpty();
    }

    @Test
    void aStormOf5xxEndsAsAServerErrorAfterBoundedRetries() {
        AtomicInteger calls = new AtomicInteger();
        routes.put("/s.jsonl", ex -> {
            calls.incrementAndGet();
            ex.sendResponseHeaders(503, -1);
        });
        assertThatThrownBy(() -> storage.fetchFile(url("/s.jsonl")))
                .isInstanceOfSatisfying(StorageException.class,
                        e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.SERVER_ERROR));
        assertThat(calls.get()).isEqualTo(TestData.FAST_RETRY.maxAttempts());
        assertThat(cachedFiles()).isEmpty();
    }

    @Test
    void aRedirectToAnotherHostIsFollowedWithoutCredentials() throws Exception {
        routes.put("/r.jsonl", ex -> {
            ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + other.getAddress().getPort() + "/elsewhere.jsonl");
            ex.sendResponseHeaders(302, -1);
        });
        Path got = storage.fetchFile(url("/r.jsonl"));
        assertThat(Files.readString(got)).contains("\"prompt\"");
        assertThat(otherHostHeaders).containsOnly("null");
    }

    @Test
    void aRedirectToALocalFileIsRefused() {
        routes.put("/f.jsonl", ex -> {
            ex.getResponseHeaders().add("Location", "file:///etc/passwd");
            ex.sendResponseHeaders(302, -1);
        });
        assertThatThrownBy(() -> storage.fetchFile(url("/f.jsonl")))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.REJECTED))
                .hasMessageContaining("redirects to a file: location");
        assertThat(cachedFiles()).isEmpty();
    }

    @Test
    void aRedirectLoopEnds() {
        routes.put("/loop", ex -> {
            ex.getResponseHeaders().add("Location", "/loop");
            ex.sendResponseHeaders(301, -1);
        });
        assertThatThrownBy(() -> storage.fetchFile(url("/loop")))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.REJECTED))
                .hasMessageContaining("too many or empty redirects");
    }

    @Test
    void aBodyLongerThanAnnouncedNeverBecomesTheCachedFile() throws Exception {
        routes.put("/long.jsonl", ex -> body(ex, 200, 0, new byte[3000]));   // chunked, then the client sees 3000 bytes
        Path got = storage.fetchFile(url("/long.jsonl"));
        assertThat(Files.size(got)).isEqualTo(3000);   // no size was announced: what arrived is the file
        routes.put("/lie.jsonl", ex -> body(ex, 200, 10, new byte[10]));
        Path cached = storage.fetchFile(url("/lie.jsonl"));
        byte[] before = Files.readAllBytes(cached);
        // The same URI now announces a different size: served from the verified cache, never overwritten half-way.
        routes.put("/lie.jsonl", ex -> body(ex, 200, 20, new byte[5]));
        assertThat(Files.readAllBytes(storage.fetchFile(url("/lie.jsonl")))).isEqualTo(before);
    }

    @Test
    void aLocalManifestWithDotDotEntriesIsRefusedAndNothingOutsideIsRead() throws Exception {
        Path model = TestData.model(tmp.resolve("models/m"), 1);
        Files.writeString(tmp.resolve("secret.txt"), "outside");
        String sha = Manifest.sha256(tmp.resolve("secret.txt"));
        Files.writeString(model.resolve(RunLayout.MANIFEST), "{\"formatVersion\": 1, \"files\": [{\"path\": \"../../secret.txt\","
                + " \"sizeBytes\": 7, \"sha256\": \"" + sha + "\"}]}");
        Map<String, String> before = TestData.contents(tmp);
        assertThatThrownBy(() -> storage.fetchDirectory("file://" + model))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY))
                .hasMessageContaining("manifest.json has a malformed entry");
        assertThat(TestData.contents(tmp)).isEqualTo(before);
    }

    @Test
    void aManifestWithAbsurdSizesIsAnIntegrityError() throws Exception {
        Path model = TestData.model(tmp.resolve("models/m"), 1);
        Files.writeString(model.resolve(RunLayout.MANIFEST), "{\"formatVersion\": 1, \"files\": [{\"path\": \"config.json\","
                + " \"sizeBytes\": 9223372036854775807, \"sha256\": \"" + "0".repeat(64) + "\"}]}");
        assertThatThrownBy(() -> storage.fetchDirectory("file://" + model))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY))
                .hasMessageContaining("config.json (9223372036854775807 bytes)");
    }

    private List<Path> cachedFiles() {
        try (var s = Files.walk(tmp.resolve("cache"))) {
            // verified copies only (files/); a resumable partial/ download is not something a caller can be handed
            return s.filter(Files::isRegularFile).filter(p -> p.toString().contains("/files/")).toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
