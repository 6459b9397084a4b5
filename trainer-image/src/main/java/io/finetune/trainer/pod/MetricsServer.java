package io.finetune.trainer.pod;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves {@link TrainerGauges} at {@code /metrics} (Prometheus text format) on the container port named "metrics".
 * One daemon thread: a scrape every few seconds needs no more, and it must not compete with training for cores.
 */
public final class MetricsServer implements AutoCloseable {
    public static final String PATH = "/metrics";
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Listens on all interfaces (in a pod the port must be reachable from Prometheus). */
    public static MetricsServer startOnAllInterfaces(int port, TrainerGauges gauges) {
        return start(new InetSocketAddress("0.0.0.0", port), gauges);
    }

    /** Starts serving; port 0 picks a free port (see {@link #port()}). */
    public static MetricsServer start(InetSocketAddress address, TrainerGauges gauges) {
        HttpServer server;
        try {
            server = HttpServer.create(address, 8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for metrics on " + address + ": " + e.getMessage(), e);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-server");
            t.setDaemon(true);
            return t;
        });
        server.createContext(PATH, exchange -> serve(exchange, gauges));
        server.setExecutor(executor);
        server.start();
        return new MetricsServer(server, executor);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void serve(HttpExchange exchange, TrainerGauges gauges) throws IOException {
        try (exchange) {
            if (!PATH.equals(exchange.getRequestURI().getPath())) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            String method = exchange.getRequestMethod();
            if (!"GET".equals(method) && !"HEAD".equals(method)) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = gauges.exposition().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            if ("HEAD".equals(method)) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
