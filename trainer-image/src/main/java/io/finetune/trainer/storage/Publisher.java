package io.finetune.trainer.storage;

import io.finetune.trainer.layout.RunLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishing a directory to a destination, manifest-last: files first, manifest.json last after removing an older one, so a
 * reader sees either no manifest (no artifact) or a complete one. Every file is checked as the store now holds it before
 * the manifest is written, and the manifest is read back after ({@link PublishCheck}), so the digest (the sha256 of the
 * manifest bytes) never describes bytes the store did not keep.
 */
final class Publisher {
    private static final Logger LOG = LoggerFactory.getLogger(Publisher.class);

    private final Stores stores;

    Publisher(Stores stores) {
        this.stores = stores;
    }

    /** Uploads every file of {@code localDir} (except checkpoints/) to {@code destinationUri}, manifest.json last. */
    PublishedArtifact publish(Path localDir, String destinationUri) {
        StorageUri dest = StorageUri.parse(destinationUri);
        Store store = stores.of(dest);
        if (!Files.isDirectory(localDir)) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, destinationUri, "nothing to publish: " + localDir
                    + " is not a directory");
        }
        Manifest manifest;
        try {
            manifest = Manifest.of(localDir);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, destinationUri, "cannot read " + localDir + ": " + e, e);
        }
        byte[] manifestBytes = manifest.toBytes();
        StorageUri manifestUri = dest.child(RunLayout.MANIFEST);
        // An older manifest next to half-replaced files would certify the wrong bytes: remove it first.
        stores.delete(manifestUri);
        LOG.info("Publishing {} ({} files, {} bytes) to {}", localDir, manifest.files().size(), manifest.totalBytes(), dest);
        for (ManifestEntry e : manifest.files()) {
            stores.upload(localDir.resolve(e.path()), dest.child(e.path()));
        }
        PublishCheck.objects(store, stores.retry(), localDir, dest, manifest);
        Path tmp = null;
        try {
            tmp = Files.createTempFile("manifest", ".json");
            Files.write(tmp, manifestBytes);
            stores.upload(tmp, manifestUri);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, destinationUri, "cannot stage "
                    + RunLayout.MANIFEST + ": " + e, e);
        } finally {
            Stores.deleteQuietly(tmp);
        }
        try {
            PublishCheck.manifest(manifestUri, manifestBytes, stores.readBytes(manifestUri));
        } catch (StorageException e) {
            // manifest-last: a manifest the store did not keep intact must not stay behind to certify anything
            try {
                stores.delete(manifestUri);
            } catch (StorageException deleteError) {
                e.addSuppressed(deleteError);
            }
            throw e;
        }
        PublishedArtifact artifact = new PublishedArtifact(dest.raw(), Manifest.digestOf(manifestBytes), manifest.totalBytes(),
                manifest.files());
        LOG.info("Published {} digest {}", artifact.uri(), artifact.digest());
        return artifact;
    }

    /** The artifact at {@code uri} as its manifest.json describes it; empty when there is no (complete) upload there. */
    Optional<PublishedArtifact> read(String uri) {
        StorageUri dir = StorageUri.parse(uri);
        StorageUri manifestUri = dir.child(RunLayout.MANIFEST);
        boolean present = stores.list(dir).stream().anyMatch(f -> f.path().equals(RunLayout.MANIFEST));
        if (!present) {
            return Optional.empty();
        }
        byte[] bytes = stores.readBytes(manifestUri);
        Manifest manifest = Manifest.parse(bytes, manifestUri.raw());
        return Optional.of(new PublishedArtifact(dir.raw(), Manifest.digestOf(bytes), manifest.totalBytes(), manifest.files()));
    }

    /**
     * Fails unless objects can be written to and deleted from {@code destinationUri}: uploads a small hidden probe object
     * and deletes it again, so a wrong bucket, read-only credentials or a policy without delete (which pruning old
     * checkpoints needs) fail before training, and nothing is left behind that would claim the destination.
     */
    void checkWritable(String destinationUri) {
        StorageUri probe = StorageUri.parse(destinationUri).child(RunLayout.writeProbeName(UUID.randomUUID().toString()));
        Path tmp = null;
        try {
            tmp = Files.createTempFile("probe", ".txt");
            Files.writeString(tmp, "write probe of the finetune trainer; safe to delete\n");
            stores.upload(tmp, probe);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, destinationUri, "cannot stage a write probe: " + e, e);
        } finally {
            Stores.deleteQuietly(tmp);
        }
        stores.delete(probe);
    }
}
