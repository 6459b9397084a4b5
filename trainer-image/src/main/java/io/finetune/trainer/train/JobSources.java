package io.finetune.trainer.train;

import io.finetune.trainer.storage.PublishedArtifact;
import io.finetune.trainer.storage.Storage;
import java.nio.file.Path;

/**
 * Local paths for a job's URIs: file:/// directly (must be absolute), every other scheme (pvc, s3, https, hf) through
 * {@link Storage} with credentials from the environment, opened only when a remote URI is actually used.
 */
public final class JobSources implements AutoCloseable {
    private final Path cacheDir;
    private Storage storage;

    public JobSources(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    /** Cache under $FINETUNE_SCRATCH (the pod's emptyDir) or the system temp dir. */
    public static JobSources fromEnvironment() {
        String scratch = System.getenv("FINETUNE_SCRATCH");
        Path root = scratch != null ? Path.of(scratch) : Path.of(System.getProperty("java.io.tmpdir"));
        return new JobSources(root.resolve("finetune-cache"));
    }

    public Path directory(String uri, String field) {
        return isFile(uri) ? Sources.local(uri, field) : storage().fetchDirectory(uri);
    }

    public Path file(String uri, String field) {
        return isFile(uri) ? Sources.local(uri, field) : storage().fetchFile(uri);
    }

    /** Uploads the output directory when the destination is remote; empty for file:// (already in place). */
    public java.util.Optional<PublishedArtifact> publish(Path output, String destination) {
        return isFile(destination) ? java.util.Optional.empty() : java.util.Optional.of(storage().publish(output, destination));
    }

    static boolean isFile(String uri) {
        return uri.startsWith("file:");
    }

    private Storage storage() {
        if (storage == null) {
            storage = Storage.fromEnvironment(cacheDir);
        }
        return storage;
    }

    @Override
    public void close() {
        if (storage != null) {
            storage.close();
        }
    }
}
