package io.finetune.trainer.storage;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local HTTP server on 127.0.0.1 serving byte arrays, honouring Range, with failure switches: the next N responses
 * drop the connection after some bytes or answer 503.
 */
final class FileServer implements AutoCloseable {
    final HttpServer server;
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** Range header of every request ("" when none), in order. */
    final List<String> ranges = new CopyOnWriteArrayList<>();
    final AtomicInteger dropsLeft = new AtomicInteger();
    volatile int dropAfterBytes = 1000;
    final AtomicInteger errorsLeft = new AtomicInteger();
    volatile boolean ignoreRange;

    FileServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(path);
        String range = ex.getRequestHeaders().getFirst("Range");
        ranges.add(range == null ? "" : range);
        byte[] body = files.get(path);
        if (errorsLeft.getAndDecrement() > 0) {
            ex.sendResponseHeaders(503, -1);
            ex.close();
            return;
        }
        if (body == null) {
            ex.sendResponseHeaders(404, -1);
            ex.close();
            return;
        }
        int from = 0;
        if (range != null && !ignoreRange && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Integer.parseInt(range.substring(6, range.length() - 1));
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
            ex.sendResponseHeaders(206, body.length - from);
        } else {
            ex.sendResponseHeaders(200, body.length);
        }
        OutputStream os = ex.getResponseBody();
        if (dropsLeft.getAndDecrement() > 0) {
            os.write(body, from, Math.min(dropAfterBytes, body.length - from));
            os.flush();
            // Closing with bytes still owed makes the server cut the connection mid-body.
            ex.close();
            return;
        }
        os.write(body, from, body.length - from);
        os.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
