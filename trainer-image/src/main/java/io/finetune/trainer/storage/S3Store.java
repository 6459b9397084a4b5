package io.finetune.trainer.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.SdkServiceClientConfiguration;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3ServiceClientConfiguration;
import software.amazon.awssdk.services.s3.auth.scheme.S3AuthSchemeProvider;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * s3://bucket/prefix on any S3-compatible endpoint (AWS, MinIO, Ceph) with the AWS SDK v2 on the JDK's URLConnection.
 * The SDK's own retries are off so {@link RetryPolicy} is the single, testable bound. Checksums are only sent when an
 * operation requires them: several S3-compatible servers reject the SDK's default trailing CRC32 uploads.
 * <p>
 * With a custom endpoint (AWS_ENDPOINT_URL) uploads are plain bodies signed with their precomputed sha256
 * ({@link #plainBodies}): over plain http the SDK otherwise streams PutObject/UploadPart as aws-chunked payloads
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), and stores that do not decode that encoding (s3rver 3.7.1, measured) keep the
 * chunk framing as the object's bytes. AWS S3 itself keeps the SDK's defaults.
 */
final class S3Store implements Store {
    private static final Logger LOG = LoggerFactory.getLogger(S3Store.class);
    /** Above this, uploads go multipart (single PUT is limited to 5 GiB; 64 MiB parts reach 625 GiB in 10,000 parts). */
    static final long MULTIPART_THRESHOLD = 64L << 20;
    private static final Set<String> DENIED = Set.of("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
            "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled");

    private final S3Client s3;
    private final long partSize;
    private final RetryPolicy retry;

    S3Store(S3Client s3, long partSize, RetryPolicy retry) {
        this.s3 = s3;
        this.partSize = partSize;
        this.retry = retry;
    }

    static S3Store create(StorageEnvironment env) {
        return create(env, MULTIPART_THRESHOLD);
    }

    /** {@code partSize}: multipart above this size, in parts of this size (S3 needs >= 5 MiB except the last). */
    static S3Store create(StorageEnvironment env, long partSize) {
        return create(env, partSize, env.s3Endpoint().isPresent());
    }

    /** {@code plain}: plain, fully signed upload bodies (custom endpoints); false keeps the SDK's defaults (AWS S3). */
    static S3Store create(StorageEnvironment env, long partSize, boolean plain) {
        AwsCredentialsProvider credentials;
        if (env.awsAccessKeyId().isPresent() && env.awsSecretAccessKey().isPresent()) {
            credentials = StaticCredentialsProvider.create(env.awsSessionToken().isPresent()
                    ? AwsSessionCredentials.create(env.awsAccessKeyId().get(), env.awsSecretAccessKey().get(),
                            env.awsSessionToken().get())
                    : AwsBasicCredentials.create(env.awsAccessKeyId().get(), env.awsSecretAccessKey().get()));
        } else {
            // No keys in the Secret: IRSA / pod identity / instance profile, as the SDK's default chain finds them.
            credentials = DefaultCredentialsProvider.builder().build();
        }
        S3ClientBuilder b = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(env.connectTimeout())
                        .socketTimeout(java.time.Duration.ofSeconds(60)))
                .region(Region.of(env.awsRegion()))
                .credentialsProvider(credentials)
                .forcePathStyle(env.s3ForcePathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
        env.s3Endpoint().ifPresent(b::endpointOverride);
        if (plain) {
            b.addPlugin(S3Store::plainBodies);
        }
        return new S3Store(b.build(), partSize, env.retry());
    }

    /**
     * Every SigV4 option the SDK resolves signs the payload's sha256 up front and sends the body as it is: no aws-chunked
     * framing (CHUNK_ENCODING_ENABLED, which the SDK turns on for PutObject/UploadPart) and no UNSIGNED-PAYLOAD.
     */
    static void plainBodies(SdkServiceClientConfiguration.Builder config) {
        S3ServiceClientConfiguration.Builder s3Config = (S3ServiceClientConfiguration.Builder) config;
        S3AuthSchemeProvider base = s3Config.authSchemeProvider();
        s3Config.authSchemeProvider(params -> base.resolveAuthScheme(params).stream()
                .map(o -> o.schemeId().startsWith("aws.auth#sigv4") ? o.toBuilder()
                        .putSignerProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, false)
                        .putSignerProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, true).build() : o)
                .toList());
    }

    @Override
    public List<RemoteFile> list(StorageUri dir) {
        String prefix = dir.path().isEmpty() ? "" : dir.path() + "/";
        try {
            List<RemoteFile> out = new ArrayList<>();
            for (S3Object o : s3.listObjectsV2Paginator(r -> r.bucket(dir.authority()).prefix(prefix)).contents()) {
                if (!o.key().endsWith("/")) {
                    out.add(new RemoteFile(o.key().substring(prefix.length()), o.size(), Optional.empty()));
                }
            }
            return out;
        } catch (SdkException e) {
            throw map(e, dir);
        }
    }

    @Override
    public RemoteFile stat(StorageUri file) {
        try {
            HeadObjectResponse head = s3.headObject(r -> r.bucket(file.authority()).key(file.path()));
            return new RemoteFile(file.fileName(), head.contentLength(), Optional.empty());
        } catch (SdkException e) {
            StorageException mapped = map(e, file);
            if (mapped.reason() == StorageException.Reason.NOT_FOUND) {
                // HEAD has no error body: a 404 is either the key or the whole bucket.
                try {
                    s3.headBucket(r -> r.bucket(file.authority()));
                } catch (SdkException bucketError) {
                    StorageException b = map(bucketError, file);
                    throw b.reason() == StorageException.Reason.NOT_FOUND ? bucketMissing(file, bucketError) : b;
                }
            }
            throw mapped;
        }
    }

    @Override
    public RemoteFile download(StorageUri file, RemoteFile expected, Path part) {
        try {
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (expected.sizeBytes() >= 0 && have >= expected.sizeBytes()) {
                Files.deleteIfExists(part);
                have = 0;
            }
            long from = have;
            GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(file.authority()).key(file.path());
            if (from > 0) {
                req.range("bytes=" + from + "-");
            }
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(req.build());
                    OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            from > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                long announced = in.response().contentLength() == null ? -1 : in.response().contentLength();
                long copied = in.transferTo(out);
                if (announced >= 0 && copied != announced) {
                    throw new StorageException(StorageException.Reason.TRUNCATED, file.raw(),
                            "received " + copied + " of " + announced + " bytes");
                }
            } catch (IOException e) {
                throw new StorageException(StorageException.Reason.TRUNCATED, file.raw(),
                        "connection dropped after " + Files.size(part) + " bytes", e);
            }
            return new RemoteFile(expected.path(), Files.size(part), Optional.empty());
        } catch (SdkException e) {
            throw map(e, file);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot write " + part + ": " + e, e);
        }
    }

    @Override
    public void upload(Path source, StorageUri file) {
        try {
            long size = Files.size(source);
            if (size <= partSize) {
                s3.putObject(r -> r.bucket(file.authority()).key(file.path()), RequestBody.fromFile(source));
            } else {
                uploadMultipart(source, size, file);
            }
        } catch (SdkException e) {
            throw map(e, file);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot read " + source + ": " + e, e);
        }
    }

    /**
     * The object only becomes visible at CompleteMultipartUpload; a failed part is retried on its own (the parts already
     * stored are kept), and a failure that outlasts the retries aborts, so no parts are left billed.
     */
    private void uploadMultipart(Path source, long size, StorageUri file) throws IOException {
        String uploadId = s3.createMultipartUpload(r -> r.bucket(file.authority()).key(file.path())).uploadId();
        try (InputStream in = Files.newInputStream(source)) {
            List<CompletedPart> parts = new ArrayList<>();
            for (int n = 1; (long) (n - 1) * partSize < size; n++) {
                byte[] chunk = in.readNBytes((int) Math.min(partSize, size - (long) (n - 1) * partSize));
                int partNumber = n;
                String etag = retry.call("upload part " + n + " of " + file, () -> {
                    try {
                        return s3.uploadPart(r -> r.bucket(file.authority()).key(file.path()).uploadId(uploadId)
                                .partNumber(partNumber), RequestBody.fromBytes(chunk)).eTag();
                    } catch (SdkException e) {
                        throw map(e, file);
                    }
                });
                parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
            }
            s3.completeMultipartUpload(r -> r.bucket(file.authority()).key(file.path()).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts)));
        } catch (IOException | SdkException | StorageException e) {
            try {
                s3.abortMultipartUpload(r -> r.bucket(file.authority()).key(file.path()).uploadId(uploadId));
            } catch (SdkException abortError) {
                LOG.warn("{}: could not abort multipart upload after a failure", file);
            }
            throw e;
        }
    }

    /**
     * HEAD of the stored object. Its ETag is the MD5 of the bytes only for a single-part upload stored without SSE-KMS or
     * SSE-C (a multipart ETag is "md5-of-md5s-N"; KMS/customer-key ETags are opaque), so only then is it reported as one.
     */
    @Override
    public StoredObject inspect(StorageUri file) {
        try {
            HeadObjectResponse head = s3.headObject(r -> r.bucket(file.authority()).key(file.path()));
            String etag = head.eTag() == null ? "" : head.eTag().replace("\"", "").toLowerCase(java.util.Locale.ROOT);
            String sse = head.serverSideEncryptionAsString() == null ? "" : head.serverSideEncryptionAsString();
            boolean md5 = etag.matches("[0-9a-f]{32}") && !sse.startsWith("aws:kms") && head.sseCustomerAlgorithm() == null;
            return new StoredObject(head.contentLength(), md5 ? Optional.of(etag) : Optional.empty(), Optional.empty());
        } catch (SdkException e) {
            throw map(e, file);
        }
    }

    @Override
    public void delete(StorageUri file) {
        try {
            s3.deleteObject(r -> r.bucket(file.authority()).key(file.path()));
        } catch (SdkException e) {
            StorageException mapped = map(e, file);
            if (mapped.reason() != StorageException.Reason.NOT_FOUND) {
                throw mapped;
            }
        }
    }

    @Override
    public void close() {
        s3.close();
    }

    /** Builds the message from status and error code only: SDK messages are not ours to vouch for. */
    static StorageException map(SdkException e, StorageUri uri) {
        if (e instanceof AwsServiceException ase) {
            int status = ase.statusCode();
            String code = ase.awsErrorDetails() == null || ase.awsErrorDetails().errorCode() == null ? ""
                    : ase.awsErrorDetails().errorCode();
            String detail = " (HTTP " + status + (code.isEmpty() ? "" : " " + code) + ")";
            if (code.equals("NoSuchBucket")) {
                return bucketMissing(uri, e);
            }
            if (DENIED.contains(code) || status == 401 || status == 403) {
                return new StorageException(StorageException.Reason.ACCESS_DENIED, uri.raw(),
                        "access denied" + detail + ": check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the job's Secret"
                                + " and the bucket policy", e);
            }
            if (code.equals("NoSuchKey") || status == 404) {
                return new StorageException(StorageException.Reason.NOT_FOUND, uri.raw(), "no such object" + detail, e);
            }
            if (status == 429 || (status >= 500 && status != 501) || code.equals("SlowDown")) {
                return new StorageException(StorageException.Reason.SERVER_ERROR, uri.raw(), "server error" + detail, e);
            }
            return new StorageException(StorageException.Reason.REJECTED, uri.raw(), "request rejected" + detail, e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof NoRouteToHostException
                    || (t instanceof SocketTimeoutException && String.valueOf(t.getMessage()).contains("connect"))) {
                return new StorageException(StorageException.Reason.UNREACHABLE, uri.raw(),
                        "cannot reach the S3 endpoint (" + t.getClass().getSimpleName() + "): check AWS_ENDPOINT_URL", e);
            }
            if (t instanceof IOException) {
                return new StorageException(StorageException.Reason.TRUNCATED, uri.raw(),
                        "connection failed (" + t.getClass().getSimpleName() + ")", e);
            }
        }
        if (e instanceof SdkClientException && String.valueOf(e.getMessage()).contains("credentials")) {
            return new StorageException(StorageException.Reason.ACCESS_DENIED, uri.raw(),
                    "no S3 credentials: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the job's Secret", e);
        }
        return new StorageException(StorageException.Reason.REJECTED, uri.raw(),
                "S3 client error (" + e.getClass().getSimpleName() + ")", e);
    }

    private static StorageException bucketMissing(StorageUri uri, Throwable cause) {
        return new StorageException(StorageException.Reason.BUCKET_NOT_FOUND, uri.raw(),
                "bucket '" + uri.authority() + "' does not exist", cause);
    }
}
