package io.finetune.trainer.storage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * An HTTP/1.1 proxy on 127.0.0.1 in front of an {@link S3Server} that records every request as the store receives it and
 * can misbehave like a faulty store: fail one UploadPart with a 500, or keep other bytes than a PutObject sent (half of
 * them, or a changed byte), acknowledging it with 200 all the same. Requests are forwarded byte for byte (one per connection), so SigV4 signatures stay valid.
 */
final class S3FaultProxy implements AutoCloseable {

    /** One request as received: method, path with query, lower-cased headers, the body bytes. */
    record Request(String method, String target, List<String[]> headers, byte[] body) {
        String header(String name) {
            return headers.stream().filter(h -> h[0].equals(name)).map(h -> h[1]).findFirst().orElse(null);
        }

        boolean isUpload() {
            return method.equals("PUT") && !target.contains("?") || target.contains("partNumber=");
        }
    }

    final List<Request> received = new CopyOnWriteArrayList<>();
    /** Answers the N-th UploadPart request (1-based, counted across the proxy's life) with 500 InternalError; 0 = never. */
    final AtomicInteger failUploadPartNumber = new AtomicInteger();
    /** After a successful single PUT of a key ending with this, the store keeps {@link #damage}(body) instead. */
    volatile String damageKeySuffix;
    /** What the store keeps of a damaged body; default: its first half. */
    volatile UnaryOperator<byte[]> damage = b -> Arrays.copyOf(b, b.length / 2);

    private final S3Server server;
    private final ServerSocket socket;
    private final AtomicInteger uploadParts = new AtomicInteger();

    S3FaultProxy(S3Server server) throws IOException {
        this.server = server;
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "s3-fault-proxy");
        t.setDaemon(true);
        t.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + socket.getLocalPort());
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Thread t = new Thread(() -> handle(client), "s3-fault-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void handle(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            String head = readHead(in);
            if (head == null) {
                return;
            }
            String[] lines = head.split("\r\n");
            String[] requestLine = lines[0].split(" ");
            List<String[]> headers = new ArrayList<>();
            StringBuilder forward = new StringBuilder(lines[0]).append("\r\n");
            boolean expectContinue = false;
            long length = 0;
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim();
                headers.add(new String[] {name, value});
                if (name.equals("expect")) {
                    expectContinue = value.equalsIgnoreCase("100-continue");   // SigV4 does not sign Expect
                } else if (!name.equals("connection")) {
                    forward.append(lines[i]).append("\r\n");
                }
                if (name.equals("content-length")) {
                    length = Long.parseLong(value);
                }
            }
            forward.append("Connection: close\r\n\r\n");
            if (expectContinue) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            byte[] body = in.readNBytes((int) length);
            Request req = new Request(requestLine[0], requestLine[1], headers, body);
            received.add(req);
            if (req.target().contains("partNumber=") && uploadParts.incrementAndGet() == failUploadPartNumber.get()) {
                byte[] error = "<Error><Code>InternalError</Code><Message>test proxy</Message></Error>"
                        .getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: "
                        + error.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(error);
                return;
            }
            byte[] response;
            try (Socket backend = new Socket(server.endpoint.getHost(), server.endpoint.getPort())) {
                backend.getOutputStream().write(forward.toString().getBytes(StandardCharsets.ISO_8859_1));
                backend.getOutputStream().write(body);
                backend.getOutputStream().flush();
                response = backend.getInputStream().readAllBytes();
            }
            String suffix = damageKeySuffix;
            if (suffix != null && req.method().equals("PUT") && !req.target().contains("?")
                    && req.target().endsWith(suffix) && new String(response, 0, 12, StandardCharsets.US_ASCII).endsWith("200")) {
                String[] bucketKey = URLDecoder.decode(req.target().substring(1), StandardCharsets.UTF_8).split("/", 2);
                byte[] kept = damage.apply(body.clone());
                server.admin.putObject(r -> r.bucket(bucketKey[0]).key(bucketKey[1]), RequestBody.fromBytes(kept));
            }
            out.write(response);
        } catch (IOException | RuntimeException e) {
            // the client gave up or the backend closed: the client sees a dropped connection, as from a real store
        }
    }

    /** The request line and headers up to the blank line, or null at end of stream. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
            if (matched == 4) {
                String s = head.toString(StandardCharsets.ISO_8859_1);
                return s.substring(0, s.length() - 4);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
