package io.finetune.trainer.storage;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The trainer's one entry point to models, datasets, artifacts and checkpoints, whatever the URI scheme: a thin facade so
 * every caller shares one set of stores (credentials, connections, retries) and one download cache. The work is done by one
 * class per job:
 * <ul>
 *   <li>{@link SourceFetch}: sources into the verified download cache (file:// and pvc:// read in place);</li>
 *   <li>{@link Publisher}: manifest-last publishing with read-back verification, and the destination write probe;</li>
 *   <li>{@link RemoteCheckpoints}: checkpoints under {@code <destination>/checkpoints/}: publish, newest, fetch, prune.</li>
 * </ul>
 * Transient failures (5xx, dropped connections, unreachable endpoints) are retried with the environment's
 * {@link RetryPolicy}; everything else fails at once with a {@link StorageException} naming the URI.
 */
public final class Storage implements AutoCloseable {
    private final Stores stores;
    private final SourceFetch fetch;
    private final Publisher publisher;
    private final RemoteCheckpoints checkpoints;

    private Storage(Path cacheDir, StorageEnvironment env) {
        this.stores = new Stores(env);
        this.fetch = new SourceFetch(stores, cacheDir);
        this.publisher = new Publisher(stores);
        this.checkpoints = new RemoteCheckpoints(stores, publisher, fetch);
    }

    /** Credentials and endpoints from the process environment (docs/contracts.md, "Credentials"). */
    public static Storage fromEnvironment(Path cacheDir) {
        return create(cacheDir, StorageEnvironment.fromEnv(System.getenv()));
    }

    public static Storage create(Path cacheDir, StorageEnvironment env) {
        return new Storage(cacheDir, env);
    }

    /** Replaces the store of one scheme (tests: wrap the real store with failure switches). */
    Storage withStore(Scheme scheme, Store store) {
        stores.put(scheme, store);
        return this;
    }

    /** A model directory: local path of a verified copy (or the directory itself for file:// and pvc://). */
    public Path fetchDirectory(String uri) throws StorageException {
        return fetch.directory(uri);
    }

    /** A single file (dataset): local path of a verified copy (or the file itself for file:// and pvc://). */
    public Path fetchFile(String uri) throws StorageException {
        return fetch.file(uri);
    }

    /** Uploads every file of {@code localDir} (except checkpoints/) to {@code destinationUri}, manifest.json last. */
    public PublishedArtifact publish(Path localDir, String destinationUri) throws StorageException {
        return publisher.publish(localDir, destinationUri);
    }

    /** The artifact at {@code uri} as its manifest.json describes it; empty when there is no (complete) upload there. */
    public Optional<PublishedArtifact> readArtifact(String uri) throws StorageException {
        return publisher.read(uri);
    }

    /** Writes and deletes a hidden probe object at {@code destinationUri}: fails unless it can be written and pruned. */
    public void checkWritable(String destinationUri) throws StorageException {
        publisher.checkWritable(destinationUri);
    }

    /** Publishes {@code localCheckpointDir} (named step-N) to {@code <destination>/checkpoints/step-N/}. */
    public void publishCheckpoint(Path localCheckpointDir, String destinationUri) throws StorageException {
        checkpoints.publish(localCheckpointDir, destinationUri);
    }

    /** The step of the newest complete checkpoint under {@code <destination>/checkpoints/}: one listing, no download. */
    public OptionalLong latestCheckpointStep(String destinationUri) throws StorageException {
        return checkpoints.latestStep(destinationUri);
    }

    /** The newest complete checkpoint (highest N with a manifest) under {@code <destination>/checkpoints/}, fetched locally. */
    public Optional<Path> fetchLatestCheckpoint(String destinationUri) throws StorageException {
        return checkpoints.fetchLatest(destinationUri);
    }

    /**
     * Deletes all but the {@code keepLatest} newest complete checkpoints under {@code <destination>/checkpoints/}; incomplete
     * ones older than the newest kept are removed too, manifest first. Returns the names removed (step-N).
     */
    public List<String> pruneCheckpoints(String destinationUri, int keepLatest) throws StorageException {
        return checkpoints.prune(destinationUri, keepLatest);
    }

    /** For file:// and pvc://: the local path {@code uri} maps to (it need not exist); empty for remote schemes. */
    public Optional<Path> localPath(String uri) throws StorageException {
        StorageUri u = StorageUri.parse(uri);
        return stores.of(u).localPath(u);
    }

    /** Paths (relative, '/'-separated) of every file under {@code uri}; empty when nothing is there. */
    public List<String> listFiles(String uri) throws StorageException {
        return stores.list(StorageUri.parse(uri)).stream().map(RemoteFile::path).toList();
    }

    /** The bytes of one small file (a marker or manifest) at {@code uri}. */
    public byte[] readSmallFile(String uri) throws StorageException {
        return stores.readBytes(StorageUri.parse(uri));
    }

    @Override
    public void close() {
        stores.close();
    }
}
