package io.finetune.trainer.storage;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GET of one file over HTTP(S) into a part file, resumable: each retry asks for {@code Range: bytes=<have>-} and appends when
 * the server answers 206, restarts when it answers 200. The result is checked against Content-Length (or the total of
 * Content-Range). Redirects are followed by hand so the bearer token is only sent to the origin host and the hub's
 * X-Linked-Size / X-Linked-ETag (sha256 of LFS files) on the redirect are kept.
 */
final class HttpDownloader {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final Pattern SHA256_ETAG = Pattern.compile("(?:W/)?\"?([0-9a-f]{64})\"?");
    private static final int MAX_REDIRECTS = 5;

    /**
     * How long a body may send nothing before the attempt is abandoned (then retried, resuming): 120 s, or the system
     * property {@value #STALL_TIMEOUT_PROPERTY} in seconds.
     */
    static final String STALL_TIMEOUT_PROPERTY = "finetune.storage.stallTimeoutSeconds";

    private final HttpClient client;
    private final Duration stallTimeout = Duration.ofSeconds(Long.getLong(STALL_TIMEOUT_PROPERTY, 120));

    HttpDownloader(Duration connectTimeout) {
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    HttpClient client() {
        return client;
    }

    /**
     * One attempt: downloads {@code url} into {@code part}, continuing after the bytes already there. {@code bearer} is sent
     * only to {@code url}'s origin. The caller retries (a {@link StorageException.Reason#TRUNCATED} attempt resumes).
     */
    RemoteFile download(String displayUri, URI url, Optional<String> bearer, RemoteFile expected, Path part) {
        long have = sizeOf(part, displayUri);
        if (expected.sizeBytes() >= 0 && have > expected.sizeBytes()) {
            have = truncate(part, displayUri);
        }
        HttpResponse<Flow.Publisher<List<ByteBuffer>>> resp = null;
        try {
            RemoteFile learned = expected;
            URI target = url;
            for (int hop = 0; ; hop++) {
                HttpRequest.Builder req = HttpRequest.newBuilder(target).GET().timeout(Duration.ofMinutes(2));
                if (bearer.isPresent() && sameOrigin(target, url)) {
                    req.header("Authorization", "Bearer " + bearer.get());
                }
                if (have > 0) {
                    req.header("Range", "bytes=" + have + "-");
                }
                resp = client.send(req.build(), HttpResponse.BodyHandlers.ofPublisher());
                learned = learned.or(linkedHeaders(resp, expected.path()));
                int code = resp.statusCode();
                if (code >= 300 && code < 400 && code != 304) {
                    Optional<String> loc = resp.headers().firstValue("Location");
                    discard(resp);
                    if (loc.isEmpty() || hop >= MAX_REDIRECTS) {
                        throw new StorageException(StorageException.Reason.REJECTED, displayUri, "too many or empty redirects");
                    }
                    target = target.resolve(loc.get());
                    if (!"http".equalsIgnoreCase(target.getScheme()) && !"https".equalsIgnoreCase(target.getScheme())) {
                        // e.g. Location: file:///etc/passwd; HttpClient would fail with a bare IllegalArgumentException
                        throw new StorageException(StorageException.Reason.REJECTED, displayUri, "the server redirects to a "
                                + target.getScheme() + ": location; only http(s) redirects are followed");
                    }
                    continue;
                }
                break;
            }
            int code = resp.statusCode();
            if (code == 416) {
                // Our part file is at least as long as the file: start over rather than trusting it.
                discard(resp);
                truncate(part, displayUri);
                throw new StorageException(StorageException.Reason.TRUNCATED, displayUri, "range not satisfiable; restarting");
            }
            if (code != 200 && code != 206) {
                discard(resp);
                throw statusError(displayUri, code);
            }
            long total;
            boolean append;
            if (code == 206) {
                Matcher m = CONTENT_RANGE.matcher(resp.headers().firstValue("Content-Range").orElse(""));
                append = m.matches() && Long.parseLong(m.group(1)) == have;
                if (!append) {
                    discard(resp);
                    truncate(part, displayUri);
                    throw new StorageException(StorageException.Reason.TRUNCATED, displayUri, "server sent another range; restarting");
                }
                total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
            } else {
                append = false;
                OptionalLong len = resp.headers().firstValueAsLong("Content-Length");
                total = len.isPresent() ? len.getAsLong() : -1;
            }
            if (expected.sizeBytes() >= 0 && total >= 0 && total != expected.sizeBytes()) {
                discard(resp);
                throw new StorageException(StorageException.Reason.INTEGRITY, displayUri,
                        "server announces " + total + " bytes, expected " + expected.sizeBytes());
            }
            try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                writeBody(resp.body(), out);
            } catch (IOException e) {
                throw new StorageException(StorageException.Reason.TRUNCATED, displayUri,
                        "connection dropped after " + sizeOf(part, displayUri) + " of " + total + " bytes", e);
            }
            long got = sizeOf(part, displayUri);
            if (total >= 0 && got != total) {
                throw new StorageException(StorageException.Reason.TRUNCATED, displayUri,
                        "received " + got + " of " + total + " bytes");
            }
            return new RemoteFile(expected.path(), got, learned.sha256());
        } catch (IOException | InterruptedException e) {
            throw transportError(displayUri, url, e);
        }
    }

    /**
     * Writes the body to {@code out} chunk by chunk as the client delivers it, so a connection that drops mid-body leaves every
     * byte received before the drop in the part file for the next attempt to resume after. (The client's ofInputStream
     * discards the chunks it still has queued once the error arrives, so a resume would start short of what was sent.)
     */
    private void writeBody(Flow.Publisher<List<ByteBuffer>> body, FileChannel out)
            throws IOException, InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicLong lastData = new AtomicLong(System.nanoTime());
        CompletableFuture<Flow.Subscription> subscription = new CompletableFuture<>();
        body.subscribe(new Flow.Subscriber<List<ByteBuffer>>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription.complete(s);
                s.request(1);
            }

            @Override
            public void onNext(List<ByteBuffer> chunk) {
                lastData.set(System.nanoTime());
                try {
                    for (ByteBuffer b : chunk) {
                        while (b.hasRemaining()) {
                            out.write(b);
                        }
                    }
                    subscription.join().request(1);
                } catch (IOException e) {
                    subscription.join().cancel();
                    done.completeExceptionally(e);
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                done.complete(null);
            }
        });
        try {
            // The request timeout only covers the headers: a server that stops sending mid-body (with the connection
            // open) would otherwise block this download for ever.
            long poll = Math.max(1, Math.min(1000, stallTimeout.toMillis()));
            while (true) {
                try {
                    done.get(poll, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    if (System.nanoTime() - lastData.get() > stallTimeout.toNanos()) {
                        subscription.thenAccept(Flow.Subscription::cancel);
                        throw new IOException("no data for " + stallTimeout.toSeconds() + " s");
                    }
                }
            }
        } catch (InterruptedException e) {
            subscription.thenAccept(Flow.Subscription::cancel);
            throw e;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** Releases a response whose body is not wanted (redirect, error status, wrong range). */
    private static void discard(HttpResponse<Flow.Publisher<List<ByteBuffer>>> resp) {
        resp.body().subscribe(new Flow.Subscriber<List<ByteBuffer>>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.cancel();
            }

            @Override
            public void onNext(List<ByteBuffer> chunk) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onComplete() {
            }
        });
    }

    /** One GET of a small document (an API response), same error mapping as downloads. */
    byte[] get(String displayUri, URI url, Optional<String> bearer) {
        HttpRequest.Builder req = HttpRequest.newBuilder(url).GET().timeout(Duration.ofMinutes(1))
                .header("Accept", "application/json");
        bearer.ifPresent(t -> req.header("Authorization", "Bearer " + t));
        try {
            HttpResponse<byte[]> resp = client.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() != 200) {
                throw statusError(displayUri, resp.statusCode());
            }
            return resp.body();
        } catch (IOException | InterruptedException e) {
            throw transportError(displayUri, url, e);
        }
    }

    /** Maps a transport failure (no HTTP status) to a reason, for downloads and API GETs alike. */
    private static StorageException transportError(String displayUri, URI url, Exception e) {
        if (e instanceof ConnectException || e instanceof UnknownHostException || e instanceof HttpConnectTimeoutException) {
            return new StorageException(StorageException.Reason.UNREACHABLE, displayUri, "cannot connect to " + url.getHost()
                    + (url.getPort() > 0 ? ":" + url.getPort() : "") + " (" + e.getClass().getSimpleName() + ")", e);
        }
        if (e instanceof HttpTimeoutException) {
            return new StorageException(StorageException.Reason.SERVER_ERROR, displayUri, "timed out waiting for the server", e);
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new StorageException(StorageException.Reason.LOCAL_IO, displayUri, "interrupted", e);
        }
        return new StorageException(StorageException.Reason.TRUNCATED, displayUri,
                "connection failed (" + e.getClass().getSimpleName() + ")", e);
    }

    /** Maps an HTTP status to a reason; the message has the status only, never the (possibly echoing) body. */
    static StorageException statusError(String displayUri, int code) {
        StorageException.Reason reason;
        String what;
        if (code == 404) {
            reason = StorageException.Reason.NOT_FOUND;
            what = "not found";
        } else if (code == 401 || code == 403) {
            reason = StorageException.Reason.ACCESS_DENIED;
            what = "access denied: check the token/credentials in the job's Secret";
        } else if (code == 429 || (code >= 500 && code != 501)) {
            reason = StorageException.Reason.SERVER_ERROR;
            what = "server error";
        } else {
            reason = StorageException.Reason.REJECTED;
            what = "request rejected";
        }
        return new StorageException(reason, displayUri, what + " (HTTP " + code + ")");
    }

    /** The hub answers LFS files with X-Linked-Size and X-Linked-ETag = "sha256"; a plain ETag may be a sha256 too. */
    private static RemoteFile linkedHeaders(HttpResponse<?> resp, String path) {
        long size = resp.headers().firstValueAsLong("X-Linked-Size").orElse(-1);
        Optional<String> sha = resp.headers().firstValue("X-Linked-ETag").or(() -> resp.headers().firstValue("ETag"))
                .map(v -> SHA256_ETAG.matcher(v.trim().toLowerCase(Locale.ROOT)))
                .filter(Matcher::matches).map(m -> m.group(1));
        return new RemoteFile(path, size, sha);
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort()
                && a.getScheme().equalsIgnoreCase(b.getScheme());
    }

    private static long sizeOf(Path part, String uri) {
        try {
            return Files.exists(part) ? Files.size(part) : 0;
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, uri, "cannot read " + part, e);
        }
    }

    private static long truncate(Path part, String uri) {
        try {
            Files.deleteIfExists(part);
            return 0;
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, uri, "cannot reset " + part, e);
        }
    }
}
