package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The S3 storage suite against s3rver (Node.js, from npm), plus the failure that made plain bodies necessary: s3rver keeps
 * an aws-chunked body's framing as the object's bytes.
 */
class S3StorageS3rverTest extends S3StorageSuite {
    @Override
    S3Server server() throws Exception {
        return S3Server.get(S3Server.Kind.S3RVER);
    }

    @Test
    void withTheSdkDefaultsThisStoreKeepsAwsChunkedFramingAndVerificationFailsThePublish() throws Exception {
        Path out = TestData.model(tmp.resolve("out"), 30);
        try (Storage storage = Storage.create(tmp.resolve("cache"), TestData.env(s3.env()))) {
            storage.withStore(Scheme.S3, S3Store.create(TestData.env(s3.env()), S3Store.MULTIPART_THRESHOLD, false));
            assertThatThrownBy(() -> storage.publish(out, "s3://artifacts/sdk-defaults"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("s3://artifacts/sdk-defaults/config.json: ")
                                .containsPattern("the store holds \\d+ bytes but 32 bytes were uploaded");
                    });
            assertThat(storage.readArtifact("s3://artifacts/sdk-defaults")).isEmpty();
        }
        byte[] stored = s3.admin.getObjectAsBytes(r -> r.bucket("artifacts").key("sdk-defaults/config.json")).asByteArray();
        assertThat(new String(stored, java.nio.charset.StandardCharsets.ISO_8859_1)).contains(";chunk-signature=");
    }
}
