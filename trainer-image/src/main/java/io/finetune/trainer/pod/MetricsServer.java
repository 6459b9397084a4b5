package io.finetune.trainer.pod;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves {@link TrainerGauges} at {@code /metrics} on the container port named "metrics", with the Prometheus Java client's
 * HTTP server and text exposition (format 0.0.4, or OpenMetrics when the scraper asks for it). Only the trainer's gauges:
 * a registry of its own, no JVM metrics. One daemon thread: a scrape every few seconds needs no more, and it must not
 * compete with training for cores.
 */
public final class MetricsServer implements AutoCloseable {
    public static final String PATH = "/metrics";

    private final HTTPServer server;

    private MetricsServer(HTTPServer server) {
        this.server = server;
    }

    /** Listens on all interfaces (in a pod the port must be reachable from Prometheus). */
    public static MetricsServer startOnAllInterfaces(int port, TrainerGauges gauges) {
        return start(new InetSocketAddress("0.0.0.0", port), gauges);
    }

    /** Starts serving; port 0 picks a free port (see {@link #port()}). */
    public static MetricsServer start(InetSocketAddress address, TrainerGauges gauges) {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(gauges);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-server");
            t.setDaemon(true);
            return t;
        });
        try {
            return new MetricsServer(HTTPServer.builder().inetAddress(address.getAddress()).port(address.getPort())
                    .registry(registry).executorService(executor)
                    .defaultHandler(exchange -> {   // instead of the client's landing page: only the metrics are served
                        try (exchange) {
                            exchange.sendResponseHeaders(404, -1);
                        }
                    })
                    .buildAndStart());
        } catch (IOException e) {
            executor.shutdownNow();
            throw new UncheckedIOException("cannot listen for metrics on " + address + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }
}
