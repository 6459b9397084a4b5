package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * s3:// against a real S3 API server on 127.0.0.1, the same cases for every implementation (one subclass each): inputs
 * uploaded the way a user would (plain SDK puts), fetched through Storage; outputs published and read back by digest;
 * checkpoints resumed from a second "node"; a failed upload part resumed; every failure users hit, including a store that
 * does not keep what it was sent.
 */
abstract class S3StorageSuite {
    S3Server s3;
    @TempDir
    Path tmp;

    abstract S3Server server() throws Exception;

    @BeforeEach
    void buckets() throws Exception {
        s3 = server();
        s3.createBucket("models");
        s3.createBucket("datasets");
        s3.createBucket("artifacts");
    }

    private Storage storage(String cache) {
        return Storage.create(tmp.resolve(cache), TestData.env(s3.env()));
    }

    private void put(String bucket, String key, Path file) {
        s3.admin.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromFile(file));
    }

    @Test
    void modelDirectoryAndDatasetUploadedByTheUserAreFetchedIntact() throws Exception {
        Path model = TestData.model(tmp.resolve("model"), 3);
        for (String rel : TestData.contents(model).keySet()) {
            put("models", "tiny/v1/" + rel, model.resolve(rel));
        }
        Path dataset = TestData.dataset(tmp.resolve("train.jsonl"));
        put("datasets", "support/train.jsonl", dataset);

        try (Storage storage = storage("cache")) {
            Path fetched = storage.fetchDirectory("s3://models/tiny/v1/");
            assertThat(TestData.contents(fetched)).isEqualTo(TestData.contents(model));
            Path data = storage.fetchFile("s3://datasets/support/train.jsonl");
            assertThat(Files.readString(data)).isEqualTo(Files.readString(dataset));
            assertThat(data).startsWith(tmp.resolve("cache"));
        }
    }

    @Test
    void publishedOutputReadsBackWithTheSameDigestAndManifestIsUploadedLast() throws Exception {
        Path out = TestData.model(tmp.resolve("out"), 4);
        try (Storage storage = storage("node-a")) {
            RecordingStore recorder = new RecordingStore(S3Store.create(TestData.env(s3.env())));
            storage.withStore(Scheme.S3, recorder);
            PublishedArtifact a = storage.publish(out, "s3://artifacts/support-lora/");

            assertThat(recorder.uploads).hasSize(4).last().isEqualTo("s3://artifacts/support-lora/manifest.json");
            byte[] manifest = s3.admin.getObjectAsBytes(r -> r.bucket("artifacts").key("support-lora/manifest.json"))
                    .asByteArray();
            assertThat(Manifest.digestOf(manifest)).isEqualTo(a.digest());
            assertThat(a.uri()).isEqualTo("s3://artifacts/support-lora/");

            try (Storage reader = storage("node-b")) {
                assertThat(reader.readArtifact("s3://artifacts/support-lora").orElseThrow().digest()).isEqualTo(a.digest());
                assertThat(TestData.contents(reader.fetchDirectory("s3://artifacts/support-lora")))
                        .isEqualTo(TestData.contents(out));
            }
        }
    }

    @Test
    void anInterruptedPublishLeavesNoManifestSoNoArtifactIsReported() throws Exception {
        String dest = "s3://artifacts/interrupted";
        try (Storage storage = storage("cache")) {
            storage.publish(TestData.model(tmp.resolve("v1"), 5), dest);
            RecordingStore failing = new RecordingStore(S3Store.create(TestData.env(s3.env())));
            failing.failAfterUploads.set(1);
            storage.withStore(Scheme.S3, failing);
            assertThatThrownBy(() -> storage.publish(TestData.model(tmp.resolve("v2"), 6), dest))
                    .isInstanceOf(StorageException.class);
            assertThat(storage.readArtifact(dest)).isEmpty();
        }
    }

    @Test
    void aPodOnAnotherNodeResumesFromTheLatestCompleteCheckpoint() throws Exception {
        String dest = "s3://artifacts/job-ckpt/";
        try (Storage nodeA = storage("node-a")) {
            for (int step : new int[] {100, 200}) {
                Path c = tmp.resolve("node-a-out/checkpoints/step-" + step);
                Files.createDirectories(c);
                Files.writeString(c.resolve("trainer_state.json"), "{\"step\": " + step + "}");
                Files.write(c.resolve("adapter_model.safetensors"), TestData.bytes(20_000, step));
                nodeA.publishCheckpoint(c, dest);
            }
        }
        // The pod died while uploading step-300: its files are there, its manifest is not.
        Path partial = Files.writeString(tmp.resolve("partial.json"), "{\"step\": 300}");
        put("artifacts", "job-ckpt/checkpoints/step-300/trainer_state.json", partial);

        try (Storage nodeB = storage("node-b")) {
            Optional<Path> resumed = nodeB.fetchLatestCheckpoint(dest);
            assertThat(resumed).isPresent();
            assertThat(resumed.get()).startsWith(tmp.resolve("node-b"));
            assertThat(Files.readString(resumed.get().resolve("trainer_state.json"))).isEqualTo("{\"step\": 200}");
            assertThat(Files.readAllBytes(resumed.get().resolve("adapter_model.safetensors")))
                    .isEqualTo(TestData.bytes(20_000, 200));
            assertThat(nodeB.fetchLatestCheckpoint("s3://artifacts/never-ran")).isEmpty();

            assertThat(nodeB.pruneCheckpoints(dest, 1)).containsExactly("step-100");
            assertThat(s3.admin.listObjectsV2(r -> r.bucket("artifacts").prefix("job-ckpt/checkpoints/step-100/")).contents())
                    .isEmpty();
        }
    }

    @Test
    void largeFilesGoMultipartAndArriveIntact() throws Exception {
        Path out = tmp.resolve("big");
        Files.createDirectories(out);
        Files.write(out.resolve("model.safetensors"), TestData.bytes((5 << 20) + 100_000, 9));
        try (Storage storage = storage("cache")) {
            storage.withStore(Scheme.S3, S3Store.create(TestData.env(s3.env()), 5 << 20));
            PublishedArtifact a = storage.publish(out, "s3://artifacts/big");
            try (Storage reader = storage("reader")) {
                Path back = reader.fetchDirectory("s3://artifacts/big");
                assertThat(Manifest.sha256(back.resolve("model.safetensors"))).isEqualTo(a.files().get(0).sha256());
            }
        }
    }

    @Test
    void aTamperedOrTruncatedObjectFailsVerificationAgainstTheManifest() throws Exception {
        try (Storage storage = storage("cache")) {
            Path out = TestData.model(tmp.resolve("out"), 10);
            storage.publish(out, "s3://artifacts/tampered");
            storage.publish(out, "s3://artifacts/truncated");
            s3.admin.putObject(r -> r.bucket("artifacts").key("tampered/model.safetensors"),
                    RequestBody.fromBytes(TestData.bytes(300_000, 11)));
            s3.admin.putObject(r -> r.bucket("artifacts").key("truncated/model.safetensors"),
                    RequestBody.fromBytes(TestData.bytes(1000, 10)));

            assertThatThrownBy(() -> storage.fetchDirectory("s3://artifacts/tampered"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("s3://artifacts/tampered/model.safetensors: ")
                                .contains("sha256 mismatch");
                    });
            assertThatThrownBy(() -> storage.fetchDirectory("s3://artifacts/truncated"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("s3://artifacts/truncated/model.safetensors: ")
                                .contains("expected 300000");
                    });
        }
    }

    @Test
    void missingBucketMissingKeyWrongCredentialsAndUnreachableEndpointEachHaveTheirReason() throws Exception {
        try (Storage storage = storage("cache")) {
            expect(() -> storage.fetchDirectory("s3://no-such-bucket/model"), StorageException.Reason.BUCKET_NOT_FOUND,
                    "s3://no-such-bucket/model");
            expect(() -> storage.fetchFile("s3://no-such-bucket/train.jsonl"), StorageException.Reason.BUCKET_NOT_FOUND,
                    "s3://no-such-bucket/train.jsonl");
            expect(() -> storage.publish(TestData.model(tmp.resolve("m"), 1), "s3://no-such-bucket/out"),
                    StorageException.Reason.BUCKET_NOT_FOUND, "s3://no-such-bucket/out");
            expect(() -> storage.fetchFile("s3://datasets/missing.jsonl"), StorageException.Reason.NOT_FOUND,
                    "s3://datasets/missing.jsonl");
            expect(() -> storage.fetchDirectory("s3://models/no-such-model"), StorageException.Reason.NOT_FOUND,
                    "s3://models/no-such-model");
        }
        try (Storage storage = Storage.create(tmp.resolve("c2"), TestData.env(s3.wrongCredentialsEnv()))) {
            expect(() -> storage.fetchDirectory("s3://models/tiny"), StorageException.Reason.ACCESS_DENIED, "s3://models/tiny");
        }
        Map<String, String> unreachable = new HashMap<>(s3.env());
        try (ServerSocket s = new ServerSocket(0)) {
            unreachable.put("AWS_ENDPOINT_URL", "http://127.0.0.1:" + s.getLocalPort());
        }
        try (Storage storage = Storage.create(tmp.resolve("c3"), TestData.env(unreachable))) {
            expect(() -> storage.fetchFile("s3://datasets/x.jsonl"), StorageException.Reason.UNREACHABLE, "s3://datasets/x.jsonl");
        }
    }

    @Test
    void uploadsArePlainBodiesSignedWithTheirSha256SinglePartAndMultipart() throws Exception {
        Path out = TestData.model(tmp.resolve("out"), 20);
        Files.write(out.resolve("big.safetensors"), TestData.bytes((5 << 20) + 70_000, 21));
        try (S3FaultProxy proxy = new S3FaultProxy(s3);
                Storage storage = Storage.create(tmp.resolve("cache"), TestData.env(s3.env(proxy.endpoint())))) {
            storage.withStore(Scheme.S3, S3Store.create(TestData.env(s3.env(proxy.endpoint())), 5 << 20));
            storage.publish(out, "s3://artifacts/plain");

            List<S3FaultProxy.Request> uploads = proxy.received.stream().filter(S3FaultProxy.Request::isUpload).toList();
            // config.json, tokenizer.json, model.safetensors, manifest.json as single PUTs + 2 parts of big.safetensors
            assertThat(uploads).hasSize(6);
            assertThat(uploads).filteredOn(r -> r.target().contains("partNumber=")).hasSize(2);
            for (S3FaultProxy.Request r : uploads) {
                assertThat(r.header("x-amz-content-sha256")).as(r.target())
                        .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(r.body())));
                assertThat(r.header("content-encoding")).as(r.target()).isNull();
                assertThat(r.header("x-amz-trailer")).as(r.target()).isNull();
                assertThat(r.header("x-amz-decoded-content-length")).as(r.target()).isNull();
            }
        }
        byte[] big = s3.admin.getObjectAsBytes(r -> r.bucket("artifacts").key("plain/big.safetensors")).asByteArray();
        assertThat(big).isEqualTo(Files.readAllBytes(out.resolve("big.safetensors")));
    }

    @Test
    void aFailedUploadPartIsRetriedAloneAndTheObjectArrivesIntact() throws Exception {
        Path out = tmp.resolve("big");
        Files.createDirectories(out);
        Files.write(out.resolve("model.safetensors"), TestData.bytes((10 << 20) + 1000, 22));
        try (S3FaultProxy proxy = new S3FaultProxy(s3);
                Storage storage = Storage.create(tmp.resolve("cache"), TestData.env(s3.env(proxy.endpoint())))) {
            proxy.failUploadPartNumber.set(2);
            storage.withStore(Scheme.S3, S3Store.create(TestData.env(s3.env(proxy.endpoint())), 5 << 20));
            PublishedArtifact a = storage.publish(out, "s3://artifacts/part-retry");

            assertThat(proxy.received.stream().filter(r -> r.target().contains("partNumber="))
                    .map(r -> r.target().replaceAll(".*partNumber=(\\d+).*", "$1")))
                    .containsExactly("1", "2", "2", "3");
            assertThat(proxy.received).filteredOn(r -> r.target().endsWith("?uploads")).hasSize(1);
            try (Storage reader = storage("reader")) {
                assertThat(reader.readArtifact("s3://artifacts/part-retry").orElseThrow().digest()).isEqualTo(a.digest());
                assertThat(Files.readAllBytes(reader.fetchDirectory("s3://artifacts/part-retry").resolve("model.safetensors")))
                        .isEqualTo(Files.readAllBytes(out.resolve("model.safetensors")));
            }
        }
    }

    @Test
    void aStoreThatKeepsOnlyPartOfABodyFailsThePublishNamingTheObjectAndLeavesNoManifest() throws Exception {
        Path out = TestData.model(tmp.resolve("out"), 23);
        try (S3FaultProxy proxy = new S3FaultProxy(s3);
                Storage storage = Storage.create(tmp.resolve("cache"), TestData.env(s3.env(proxy.endpoint())))) {
            proxy.damageKeySuffix = "/model.safetensors";
            assertThatThrownBy(() -> storage.publish(out, "s3://artifacts/truncating"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("s3://artifacts/truncating/model.safetensors: ")
                                .contains("the store holds 150000 bytes but 300000 bytes were uploaded");
                    });
            assertThat(storage.readArtifact("s3://artifacts/truncating")).isEmpty();
        }
        assertThat(keys("truncating/")).doesNotContain("truncating/manifest.json").contains("truncating/model.safetensors");
    }

    @Test
    void aStoreThatChangesAByteAtTheSameSizeIsCaughtByTheSinglePartEtag() throws Exception {
        Path out = TestData.model(tmp.resolve("out"), 25);
        try (S3FaultProxy proxy = new S3FaultProxy(s3);
                Storage storage = Storage.create(tmp.resolve("cache"), TestData.env(s3.env(proxy.endpoint())))) {
            proxy.damage = b -> {
                b[4321] ^= 1;
                return b;
            };
            proxy.damageKeySuffix = "/model.safetensors";
            assertThatThrownBy(() -> storage.publish(out, "s3://artifacts/flipped"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("s3://artifacts/flipped/model.safetensors: ")
                                .contains("the stored 300000 bytes have MD5 (ETag) ")
                                .contains("but the uploaded 300000 bytes have "
                                        + PublishCheck.md5(out.resolve("model.safetensors"), StorageUri.parse("file:///x")));
                    });
        }
        assertThat(keys("flipped/")).doesNotContain("flipped/manifest.json");
    }

    @Test
    void aWrongCredentialIsAClearErrorAndPublishesNothing() throws Exception {
        try (Storage storage = Storage.create(tmp.resolve("cache"), TestData.env(s3.wrongCredentialsEnv()))) {
            expect(() -> storage.publish(TestData.model(tmp.resolve("m"), 24), "s3://artifacts/denied"),
                    StorageException.Reason.ACCESS_DENIED, "s3://artifacts/denied");
        }
        assertThat(keys("denied/")).isEmpty();
    }

    List<String> keys(String prefix) {
        return s3.admin.listObjectsV2(r -> r.bucket("artifacts").prefix(prefix)).contents().stream().map(o -> o.key()).toList();
    }

    static void expect(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, StorageException.Reason reason,
            String uri) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
            assertThat(e.getMessage()).startsWith(uri);
        });
    }
}
