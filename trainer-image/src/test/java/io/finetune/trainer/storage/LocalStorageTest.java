package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** file:// and pvc://: in-place reads, atomic publishes with a manifest, checkpoints, and the errors users hit. */
class LocalStorageTest {
    @TempDir
    Path tmp;

    private Storage storage(Path pvcRoot) {
        return Storage.create(tmp.resolve("cache"), TestData.env(Map.of("FINETUNE_PVC_ROOT", pvcRoot.toString())));
    }

    @Test
    void publishWritesManifestWhoseSha256IsTheDigestAndExcludesCheckpoints() throws Exception {
        Path out = TestData.model(tmp.resolve("out"), 1);
        Files.createDirectories(out.resolve("checkpoints/step-5"));
        Files.writeString(out.resolve("checkpoints/step-5/state.bin"), "optimizer");
        try (Storage storage = storage(tmp)) {
            PublishedArtifact a = storage.publish(out, "file://" + tmp.resolve("dest"));

            byte[] manifest = Files.readAllBytes(tmp.resolve("dest/manifest.json"));
            assertThat(a.digest()).isEqualTo("sha256:" + Manifest.hex(Manifest.sha256Digest().digest(manifest)));
            assertThat(a.files()).extracting(ManifestEntry::path)
                    .containsExactly("config.json", "model.safetensors", "tokenizer/tokenizer.json");
            assertThat(a.sizeBytes()).isEqualTo(Files.size(out.resolve("config.json")) + 300_000
                    + Files.size(out.resolve("tokenizer/tokenizer.json")));
            assertThat(TestData.contents(tmp.resolve("dest"))).isEqualTo(Map.of(
                    "config.json", Manifest.sha256(out.resolve("config.json")),
                    "model.safetensors", Manifest.sha256(out.resolve("model.safetensors")),
                    "tokenizer/tokenizer.json", Manifest.sha256(out.resolve("tokenizer/tokenizer.json"))));
            assertThat(storage.readArtifact("file://" + tmp.resolve("dest")).orElseThrow().digest()).isEqualTo(a.digest());
        }
    }

    @Test
    void aVolumeThatDoesNotKeepTheWrittenBytesFailsThePublishAndLeavesNoManifest() throws Exception {
        Path root = tmp.resolve("pvc");
        Files.createDirectories(root.resolve("artifacts"));
        Path out = TestData.model(tmp.resolve("out"), 3);
        try (Storage storage = storage(root)) {
            // pvc://: the volume keeps only the first 1000 bytes of the weights
            RecordingStore truncating = new RecordingStore(new PvcStore(root));
            truncating.afterUpload = uri -> damage(uri, root.resolve("artifacts").resolve(uri.path()),
                    b -> java.util.Arrays.copyOf(b, 1000));
            storage.withStore(Scheme.PVC, truncating);
            assertThatThrownBy(() -> storage.publish(out, "pvc://artifacts/run2"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("pvc://artifacts/run2/model.safetensors: ")
                                .contains("the store holds 1000 bytes but 300000 bytes were uploaded");
                    });
            assertThat(root.resolve("artifacts/run2/manifest.json")).doesNotExist();
            assertThat(storage.readArtifact("pvc://artifacts/run2")).isEmpty();

            // file://: same size, one byte changed on disk: only the sha256 read back can tell
            RecordingStore flipping = new RecordingStore(new FileStore());
            Path dest = tmp.resolve("dest");
            flipping.afterUpload = uri -> damage(uri, uri.localPath(), b -> {
                b[1234] ^= 1;
                return b;
            });
            storage.withStore(Scheme.FILE, flipping);
            String sent = Manifest.sha256(out.resolve("model.safetensors"));
            assertThatThrownBy(() -> storage.publish(out, "file://" + dest))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("file://" + dest + "/model.safetensors: ")
                                .contains("the stored 300000 bytes have sha256 ")
                                .contains("but the uploaded 300000 bytes have " + sent);
                    });
            assertThat(dest.resolve("manifest.json")).doesNotExist();
        }
    }

    /** Rewrites the just-uploaded weights file {@code f} through {@code change}; other files stay as written. */
    private static void damage(StorageUri uri, Path f, java.util.function.UnaryOperator<byte[]> change) {
        try {
            if (uri.fileName().equals("model.safetensors")) {
                Files.write(f, change.apply(Files.readAllBytes(f)));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void pvcPathsResolveUnderTheMountRootAndAnUnmountedClaimIsAnError() throws Exception {
        Path root = tmp.resolve("pvc");
        TestData.model(root.resolve("models/llama"), 2);
        TestData.dataset(root.resolve("models/data/train.jsonl"));
        try (Storage storage = storage(root)) {
            assertThat(storage.fetchDirectory("pvc://models/llama")).isEqualTo(root.resolve("models/llama"));
            assertThat(storage.fetchFile("pvc://models/data/train.jsonl")).isEqualTo(root.resolve("models/data/train.jsonl"));

            assertThatThrownBy(() -> storage.publish(root.resolve("models/llama"), "pvc://artifacts/run1"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
                        assertThat(e.getMessage()).contains("pvc://artifacts/run1").contains("not mounted");
                    });
            assertThat(root.resolve("artifacts")).doesNotExist();
            assertThatThrownBy(() -> storage.fetchFile("pvc://models/data/missing.jsonl"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
                        assertThat(e.getMessage()).contains("pvc://models/data/missing.jsonl");
                    });
        }
    }

    @Test
    void latestCompleteCheckpointWinsAndAPartialOneIsIgnored() throws Exception {
        Path root = tmp.resolve("pvc");
        Files.createDirectories(root.resolve("ckpt"));
        try (Storage storage = storage(root)) {
            String dest = "pvc://ckpt/job-a";
            assertThat(storage.fetchLatestCheckpoint(dest)).isEmpty();
            for (int step : new int[] {10, 20}) {
                Path c = tmp.resolve("local/step-" + step);
                Files.createDirectories(c);
                Files.writeString(c.resolve("state.json"), "{\"step\": " + step + "}");
                storage.publishCheckpoint(c, dest);
            }
            // step-30 was cut off mid-upload: files but no manifest.
            Files.createDirectories(root.resolve("ckpt/job-a/checkpoints/step-30"));
            Files.writeString(root.resolve("ckpt/job-a/checkpoints/step-30/state.json"), "{\"step\": 30");

            Optional<Path> latest = storage.fetchLatestCheckpoint(dest);
            assertThat(latest).isPresent();
            assertThat(Files.readString(latest.get().resolve("state.json"))).isEqualTo("{\"step\": 20}");
        }
    }

    @Test
    void pruningKeepsTheNewestCompleteCheckpointsAndAnyNewerUploadInProgress() throws Exception {
        Path root = tmp.resolve("pvc");
        Files.createDirectories(root.resolve("ckpt"));
        try (Storage storage = storage(root)) {
            String dest = "pvc://ckpt/job-b";
            for (int step : new int[] {10, 20, 30}) {
                Path c = tmp.resolve("local/step-" + step);
                Files.createDirectories(c);
                Files.writeString(c.resolve("state.json"), "{\"step\": " + step + "}");
                storage.publishCheckpoint(c, dest);
            }
            Files.createDirectories(root.resolve("ckpt/job-b/checkpoints/step-40"));
            Files.writeString(root.resolve("ckpt/job-b/checkpoints/step-40/state.json"), "{\"step\": 4");

            assertThat(storage.pruneCheckpoints(dest, 2)).containsExactly("step-10");
            assertThat(root.resolve("ckpt/job-b/checkpoints/step-10/state.json")).doesNotExist();
            assertThat(root.resolve("ckpt/job-b/checkpoints/step-20/manifest.json")).exists();
            assertThat(root.resolve("ckpt/job-b/checkpoints/step-40/state.json")).exists();
            assertThat(Files.readString(storage.fetchLatestCheckpoint(dest).orElseThrow().resolve("state.json")))
                    .isEqualTo("{\"step\": 30}");
        }
    }

    @Test
    void republishingRemovesTheOldManifestBeforeReplacingFiles() throws Exception {
        try (Storage storage = storage(tmp)) {
            String dest = "file://" + tmp.resolve("dest");
            PublishedArtifact first = storage.publish(TestData.model(tmp.resolve("a"), 1), dest);
            PublishedArtifact second = storage.publish(TestData.model(tmp.resolve("b"), 2), dest);
            assertThat(second.digest()).isNotEqualTo(first.digest());
            assertThat(storage.readArtifact(dest).orElseThrow().digest()).isEqualTo(second.digest());
        }
    }

    @Test
    void aHalfCopiedPublishedDirectoryOnAVolumeIsRejected() throws Exception {
        Path root = tmp.resolve("pvc");
        Files.createDirectories(root.resolve("models"));
        try (Storage storage = storage(root)) {
            storage.publish(TestData.model(tmp.resolve("m"), 1), "pvc://models/tiny");
            assertThat(storage.fetchDirectory("pvc://models/tiny")).isEqualTo(root.resolve("models/tiny"));
            Files.write(root.resolve("models/tiny/model.safetensors"), TestData.bytes(1000, 1));
            assertThatThrownBy(() -> storage.fetchDirectory("pvc://models/tiny"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INTEGRITY);
                        assertThat(e.getMessage()).startsWith("pvc://models/tiny: ").contains("model.safetensors");
                    });
        }
    }

    @Test
    void badUrisFailWithInvalidUriNamingTheUri() {
        try (Storage storage = storage(tmp)) {
            for (String bad : new String[] {"ftp://host/x", "s3:///no-bucket", "hf://only-org", "pvc:///x", "https:///x"}) {
                assertThatThrownBy(() -> storage.fetchFile(bad)).as(bad)
                        .isInstanceOfSatisfying(StorageException.class, e -> {
                            assertThat(e.reason()).isEqualTo(StorageException.Reason.INVALID_URI);
                            assertThat(e.getMessage()).startsWith(bad + ": ");
                        });
            }
            assertThatThrownBy(() -> storage.fetchFile("https://user:pa55word@example.org/train.jsonl"))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        assertThat(e.reason()).isEqualTo(StorageException.Reason.INVALID_URI);
                        assertThat(e.getMessage()).startsWith("https://***@example.org/train.jsonl: ").doesNotContain("pa55word");
                    });
            assertThatThrownBy(() -> storage.publish(tmp, "https://example.org/out"))
                    .isInstanceOfSatisfying(StorageException.class,
                            e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.INVALID_URI));
            assertThatThrownBy(() -> storage.fetchDirectory("file://" + tmp.resolve("nothing-here")))
                    .isInstanceOfSatisfying(StorageException.class,
                            e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND));
        }
    }
}
