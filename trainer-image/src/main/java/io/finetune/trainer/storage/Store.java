package io.finetune.trainer.storage;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** One URI scheme. {@link Storage} adds caching, verification, manifests and checkpoints on top of these primitives. */
interface Store extends AutoCloseable {

    /** Every file under {@code dir}, recursively, with paths relative to it; empty when nothing is there. */
    List<RemoteFile> list(StorageUri dir);

    /** What the source says about one file before downloading it (may be all unknown for plain HTTP). */
    RemoteFile stat(StorageUri file);

    /**
     * Downloads {@code file} into {@code part}, resuming from the bytes already in {@code part} where the source supports
     * ranges. Returns what the transfer learned (size, sha256 from headers); the caller verifies.
     */
    RemoteFile download(StorageUri file, RemoteFile expected, Path part);

    void upload(Path source, StorageUri file);

    /** What the store now holds at {@code file} (after {@link #upload}), for verifying what was published. */
    default StoredObject inspect(StorageUri file) {
        throw readOnly(file);
    }

    /** Deletes one file; no error when it is absent. */
    void delete(StorageUri file);

    /** For local schemes: the path itself, so nothing is copied into the cache. */
    default Optional<Path> localPath(StorageUri uri) {
        return Optional.empty();
    }

    @Override
    default void close() {
    }

    static StorageException readOnly(StorageUri uri) {
        return new StorageException(StorageException.Reason.INVALID_URI, uri.raw(),
                uri.scheme().prefix() + ":// is read-only; publish to s3://, pvc:// or file://");
    }
}
