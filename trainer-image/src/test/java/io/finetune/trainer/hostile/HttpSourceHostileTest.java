package io.finetune.trainer.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dataset served over HTTP on 127.0.0.1 by a hostile server, through the real {@code run} command: a 5xx storm is a
 * resource failure (exit 4) after bounded retries, a 404 or a redirect to a local file an input failure (exit 3); one error
 * line naming the URL, no stack trace, no file changed.
 */
class HttpSourceHostileTest {
    @TempDir
    Path dir;
    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile int status;
    private volatile String location;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            if (location != null) {
                ex.getResponseHeaders().add("Location", location);
            }
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        server.start();
        Hostile.model(dir.resolve("model"));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private Hostile.Outcome run() throws Exception {
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/data/train.jsonl";
        Path manifest = Hostile.write(dir.resolve("job.yaml"), Hostile.job("http-data", 4, "file://" + dir.resolve("model"),
                url, "file://" + dir.resolve("out")));
        Map<String, String> before = Hostile.snapshot(dir);
        Hostile.Outcome o = Hostile.run("run", manifest.toString());
        assertThat(Hostile.snapshot(dir)).as("nothing written, nothing changed").isEqualTo(before);
        return o;
    }

    @Test
    void aStormOf503IsAResourceFailureAfterBoundedRetries() throws Exception {
        status = 503;
        run().refused(4, "/data/train.jsonl: server error (HTTP 503) [SERVER_ERROR] (retries exhausted; try again later)");
        assertThat(requests.get()).isEqualTo(5);   // RetryPolicy.DEFAULT's attempts
    }

    @Test
    void aMissingFileIsAnInputFailureAtOnce() throws Exception {
        status = 404;
        run().refused(3, "/data/train.jsonl: not found (HTTP 404) [NOT_FOUND]");
        assertThat(requests.get()).isEqualTo(1);
    }

    @Test
    void aRedirectToALocalFileIsRefused() throws Exception {
        status = 302;
        location = "file:///etc/passwd";
        run().refused(3, "redirects to a file: location");
    }
}
