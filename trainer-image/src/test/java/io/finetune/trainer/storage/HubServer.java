package io.finetune.trainer.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The Hugging Face hub URL layout on 127.0.0.1 (as huggingface_hub calls it): {@code /api/models/{org}/{name}/revision/{rev}}
 * lists siblings (LFS ones with lfs.sha256/size); {@code /{org}/{name}/resolve/{rev}/{path}} serves small files directly and
 * answers LFS files with a 302 to a second "CDN" server plus X-Linked-Size / X-Linked-ETag, as the real hub does.
 */
final class HubServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Repo(Map<String, byte[]> files, Set<String> lfs) {
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    /** Authorization header the CDN received on each request ("" when none). */
    final List<String> cdnAuthorization = new CopyOnWriteArrayList<>();
    final List<String> hubRequests = new CopyOnWriteArrayList<>();
    volatile String requiredToken;
    volatile boolean corruptBlobs;

    HubServer() throws IOException {
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hub.createContext("/", this::handleHub);
        cdn.createContext("/", this::handleCdn);
        hub.start();
        cdn.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    void repo(String orgName, String revision, Map<String, byte[]> files, Set<String> lfs) {
        repos.put(orgName + "@" + revision, new Repo(new TreeMap<>(files), lfs));
        for (String f : lfs) {
            blobs.put(sha256(files.get(f)), files.get(f));
        }
    }

    private void handleHub(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        hubRequests.add(path);
        if (requiredToken != null && !("Bearer " + requiredToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            send(ex, 401, "{\"error\":\"Invalid credentials in Authorization header\"}".getBytes());
            return;
        }
        // Dataset repos live under /api/datasets/... and /datasets/...; keyed "datasets/org/name@rev".
        String type = "";
        if (path.startsWith("/api/datasets/")) {
            type = "datasets/";
            path = "/api/models/" + path.substring("/api/datasets/".length());
        } else if (path.startsWith("/datasets/")) {
            type = "datasets/";
            path = path.substring("/datasets".length());
        }
        String[] p = path.substring(1).split("/", -1);
        if (p.length == 6 && p[0].equals("api") && p[1].equals("models") && p[4].equals("revision")) {
            Repo repo = repos.get(type + p[2] + "/" + p[3] + "@" + p[5]);
            if (repo == null) {
                send(ex, 404, "{\"error\":\"Repository not found\"}".getBytes());
                return;
            }
            ObjectNode info = JSON.createObjectNode().put("id", p[2] + "/" + p[3]);
            ArrayNode siblings = info.putArray("siblings");
            repo.files().forEach((name, bytes) -> {
                ObjectNode s = siblings.addObject().put("rfilename", name).put("size", bytes.length);
                if (repo.lfs().contains(name)) {
                    s.putObject("lfs").put("sha256", sha256(bytes)).put("size", bytes.length);
                }
            });
            send(ex, 200, JSON.writeValueAsBytes(info));
            return;
        }
        if (p.length >= 5 && p[2].equals("resolve")) {
            Repo repo = repos.get(type + p[0] + "/" + p[1] + "@" + p[3]);
            String file = String.join("/", List.of(p).subList(4, p.length));
            byte[] bytes = repo == null ? null : repo.files().get(file);
            if (bytes == null) {
                send(ex, 404, new byte[0]);
                return;
            }
            if (repo.lfs().contains(file)) {
                String sha = sha256(bytes);
                ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + sha);
                ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(bytes.length));
                ex.getResponseHeaders().add("X-Linked-ETag", "\"" + sha + "\"");
                ex.sendResponseHeaders(302, -1);
                ex.close();
                return;
            }
            // Small files: ETag is the git blob id (sha1), which is not a sha256 and must not be treated as one.
            ex.getResponseHeaders().add("ETag", "\"" + sha256(bytes).substring(0, 40) + "\"");
            send(ex, 200, bytes);
            return;
        }
        send(ex, 404, new byte[0]);
    }

    private void handleCdn(HttpExchange ex) throws IOException {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        cdnAuthorization.add(auth == null ? "" : auth);
        byte[] bytes = blobs.get(ex.getRequestURI().getPath().replace("/blobs/", ""));
        if (bytes == null) {
            send(ex, 404, new byte[0]);
            return;
        }
        if (corruptBlobs) {
            bytes = bytes.clone();
            bytes[bytes.length / 2] ^= 1;
        }
        send(ex, 200, bytes);
    }

    private static void send(HttpExchange ex, int code, byte[] body) throws IOException {
        ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        }
        ex.close();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
