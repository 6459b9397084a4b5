package io.finetune.trainer.storage;

import java.net.URI;
import java.util.Map;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 API server (s3proxy on a jclouds in-memory blobstore) on 127.0.0.1, started once per test JVM, with SigV4
 * authentication so wrong credentials are really rejected.
 */
final class S3Server {
    static final String ACCESS_KEY = "AKIAFTTESTKEY0000001";
    static final String SECRET_KEY = "sEcReT-s3-ZmluZXR1bmU-d0NtLeak";
    private static S3Server instance;

    final URI endpoint;
    final S3Client admin;
    private final S3Proxy proxy;

    private S3Server() throws Exception {
        BlobStoreContext ctx = ContextBuilder.newBuilder("transient").credentials("unused", "unused")
                .build(BlobStoreContext.class);
        proxy = S3Proxy.builder().blobStore(ctx.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
        proxy.start();
        for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
            Thread.sleep(25);
        }
        endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
        admin = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder()).region(Region.US_EAST_1)
                .endpointOverride(endpoint).forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                proxy.stop();
            } catch (Exception ignored) {
                // JVM is exiting
            }
        }));
    }

    static synchronized S3Server get() throws Exception {
        if (instance == null) {
            instance = new S3Server();
        }
        return instance;
    }

    /** What the operator would put in the pod from the job's Secret. */
    Map<String, String> env() {
        return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY, "AWS_REGION", "us-east-1",
                "AWS_ENDPOINT_URL", endpoint.toString(), "S3_FORCE_PATH_STYLE", "true");
    }

    void createBucket(String name) {
        if (admin.listBuckets().buckets().stream().noneMatch(b -> b.name().equals(name))) {
            admin.createBucket(r -> r.bucket(name));
        }
    }
}
