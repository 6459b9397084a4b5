package io.finetune.trainer.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Per-pod download cache in the scratch volume. Layout per source URI ({@code <root>/<scheme>/<hash>-<name>/}):
 * {@code files/} holds only verified files (what callers get), {@code partial/} the resumable downloads in progress,
 * {@code meta/} the sha256 of each verified file, so a later fetch can reuse it without re-hashing.
 */
final class DownloadCache {
    private final Path root;

    DownloadCache(Path root) {
        this.root = root;
    }

    Path base(StorageUri uri) {
        String hash = Manifest.hex(Manifest.sha256Digest().digest(uri.raw().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        String name = uri.fileName().replaceAll("[^A-Za-z0-9._-]", "_");
        if (name.length() > 40) {
            name = name.substring(0, 40);
        }
        return root.resolve(uri.scheme().prefix()).resolve(hash + (name.isEmpty() ? "" : "-" + name));
    }

    static Path files(Path base) {
        return base.resolve("files");
    }

    /** True when a verified copy of {@code expected} is already at {@code files/rel}. */
    boolean isCached(Path base, RemoteFile expected) {
        Path target = files(base).resolve(expected.path());
        Path meta = meta(base, expected.path());
        try {
            if (!Files.isRegularFile(target) || !Files.isRegularFile(meta)) {
                return false;
            }
            if (expected.sizeBytes() >= 0 && Files.size(target) != expected.sizeBytes()) {
                return false;
            }
            String sha = Files.readString(meta).trim();
            return expected.sha256().map(sha::equals).orElse(true);
        } catch (IOException e) {
            return false;
        }
    }

    Path partFile(Path base, String rel) {
        return base.resolve("partial").resolve(rel + ".part");
    }

    /**
     * Checks the finished part file against the size and sha256 the source announced and moves it into {@code files/}.
     * A mismatch deletes the part file (it can never become right by resuming) and fails with INTEGRITY.
     */
    Path commit(Path base, String rel, RemoteFile want, String uri) {
        Path part = partFile(base, rel);
        Path target = files(base).resolve(rel);
        try {
            long size = Files.size(part);
            if (want.sizeBytes() >= 0 && size != want.sizeBytes()) {
                Files.deleteIfExists(part);
                throw new StorageException(StorageException.Reason.INTEGRITY, uri,
                        "downloaded " + size + " bytes, expected " + want.sizeBytes());
            }
            String sha = Manifest.sha256(part);
            Optional<String> expectedSha = want.sha256();
            if (expectedSha.isPresent() && !expectedSha.get().equals(sha)) {
                Files.deleteIfExists(part);
                throw new StorageException(StorageException.Reason.INTEGRITY, uri,
                        "sha256 mismatch: expected " + expectedSha.get() + ", got " + sha);
            }
            Files.createDirectories(target.getParent());
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Path meta = meta(base, rel);
            Files.createDirectories(meta.getParent());
            Files.writeString(meta, sha);
            return target;
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, uri, "cannot store download in cache: " + e, e);
        }
    }

    void prepare(Path base, String rel, String uri) {
        try {
            Files.createDirectories(partFile(base, rel).getParent());
            Files.deleteIfExists(meta(base, rel));
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, uri, "cannot create cache directory: " + e, e);
        }
    }

    private static Path meta(Path base, String rel) {
        return base.resolve("meta").resolve(rel + ".sha256");
    }
}
