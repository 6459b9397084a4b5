package io.finetune.trainer.storage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.Assumptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 API server on 127.0.0.1, started once per test JVM and kind. Two independent implementations run the same
 * storage suites:
 * <ul>
 *   <li>{@link Kind#S3PROXY}: s3proxy 3.0.0 (Java, a test dependency) on a jclouds in-memory blobstore, with SigV4
 *       authentication, so a wrong secret is really rejected; it decodes aws-chunked uploads.</li>
 *   <li>{@link Kind#S3RVER}: s3rver 3.7.1 (Node.js, from npm; hack/test.sh installs it into ~/.cache/finetune-s3rver) on a
 *       temporary directory. It checks the access key id but not SigV4 signatures, and stores aws-chunked bodies with
 *       their framing, as some real S3-compatible stores do.</li>
 * </ul>
 */
final class S3Server {
    static final String ACCESS_KEY = "AKIAFTTESTKEY0000001";
    static final String SECRET_KEY = "sEcReT-s3-ZmluZXR1bmU-d0NtLeak";
    /** s3rver's only account (lib/models/account.js); it cannot be configured from its command line. */
    static final String S3RVER_KEY = "S3RVER";
    /** hack/test.sh sets this: then a missing s3rver fails the tests instead of skipping them. */
    static final String REQUIRE_S3RVER = "FINETUNE_REQUIRE_S3RVER";
    private static final Pattern LISTENING = Pattern.compile("listening on [0-9.]+:(\\d+)");
    private static final Map<Kind, S3Server> INSTANCES = new HashMap<>();

    enum Kind {
        S3PROXY, S3RVER
    }

    final Kind kind;
    final URI endpoint;
    final S3Client admin;
    final String accessKey;
    final String secretKey;

    private S3Server(Kind kind, URI endpoint, String accessKey, String secretKey) {
        this.kind = kind;
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        // The "user's" client: plain bodies too, or s3rver would store the test inputs with aws-chunked framing inside.
        this.admin = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder()).region(Region.US_EAST_1)
                .endpointOverride(endpoint).forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .addPlugin(S3Store::plainBodies)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .build();
    }

    /** s3proxy: the server most tests use. */
    static S3Server get() throws Exception {
        return get(Kind.S3PROXY);
    }

    static synchronized S3Server get(Kind kind) throws Exception {
        S3Server s = INSTANCES.get(kind);
        if (s == null) {
            s = kind == Kind.S3PROXY ? startS3Proxy() : startS3rver();
            INSTANCES.put(kind, s);
        }
        return s;
    }

    private static S3Server startS3Proxy() throws Exception {
        BlobStoreContext ctx = ContextBuilder.newBuilder("transient").credentials("unused", "unused")
                .build(BlobStoreContext.class);
        S3Proxy proxy = S3Proxy.builder().blobStore(ctx.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
        proxy.start();
        for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
            Thread.sleep(25);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                proxy.stop();
            } catch (Exception ignored) {
                // JVM is exiting
            }
        }));
        return new S3Server(Kind.S3PROXY, URI.create("http://127.0.0.1:" + proxy.getPort()), ACCESS_KEY, SECRET_KEY);
    }

    /** Where hack/test.sh installs s3rver (npm install --prefix); FINETUNE_S3RVER_DIR overrides. */
    static Path s3rverDir() {
        String dir = System.getenv("FINETUNE_S3RVER_DIR");
        return dir != null && !dir.isBlank() ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".cache", "finetune-s3rver", "3.7.1");
    }

    private static S3Server startS3rver() throws Exception {
        Path script = s3rverDir().resolve("node_modules/s3rver/bin/s3rver.js");
        if (!Files.isRegularFile(script)) {
            String why = "s3rver is not installed at " + script + " (hack/test.sh installs it from npm)";
            if (Boolean.parseBoolean(System.getenv(REQUIRE_S3RVER))) {
                throw new IllegalStateException(why);
            }
            Assumptions.abort(why);
        }
        Path data = Files.createTempDirectory("s3rver");
        Process p = new ProcessBuilder("node", script.toString(), "-d", data.toString(), "-a", "127.0.0.1", "-p", "0",
                "--silent").redirectErrorStream(true).start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            seen.append(line).append('\n');
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        out.transferTo(java.io.Writer.nullWriter());
                    } catch (IOException ignored) {
                        // the server exited
                    }
                }, "s3rver-output");
                drain.setDaemon(true);
                drain.start();
                return new S3Server(Kind.S3RVER, URI.create("http://127.0.0.1:" + m.group(1)), S3RVER_KEY, S3RVER_KEY);
            }
        }
        p.waitFor(5, TimeUnit.SECONDS);
        throw new IllegalStateException("s3rver did not start: " + seen);
    }

    /** What the operator would put in the pod from the job's Secret. */
    Map<String, String> env() {
        return Map.of("AWS_ACCESS_KEY_ID", accessKey, "AWS_SECRET_ACCESS_KEY", secretKey, "AWS_REGION", "us-east-1",
                "AWS_ENDPOINT_URL", endpoint.toString(), "S3_FORCE_PATH_STYLE", "true");
    }

    /**
     * A Secret with a wrong credential this server rejects: the secret for s3proxy; for s3rver, which does not check SigV4
     * signatures, the access key id.
     */
    Map<String, String> wrongCredentialsEnv() {
        Map<String, String> wrong = new HashMap<>(env());
        wrong.put(kind == Kind.S3PROXY ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID", "wrong-secret-value-123");
        return wrong;
    }

    /** The same server behind another endpoint (a test proxy). */
    Map<String, String> env(URI via) {
        Map<String, String> e = new HashMap<>(env());
        e.put("AWS_ENDPOINT_URL", via.toString());
        return e;
    }

    void createBucket(String name) {
        if (admin.listBuckets().buckets().stream().noneMatch(b -> b.name().equals(name))) {
            admin.createBucket(r -> r.bucket(name));
        }
    }
}
