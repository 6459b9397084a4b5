package io.finetune.trainer.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's one entry point to models, datasets, artifacts and checkpoints, whatever the URI scheme.
 * <ul>
 *   <li>Reads of remote sources land in the cache dir, verified by size and by sha256 when the source gives one (our own
 *       manifest.json, the hub's LFS ETag). file:// and pvc:// are returned in place, never copied.</li>
 *   <li>{@link #publish} writes files first and manifest.json last, after removing an older manifest: a reader either sees
 *       no manifest (no artifact) or a complete one. The artifact digest is the sha256 of the manifest bytes. Before the
 *       manifest is written every file is checked as the store now holds it, and the manifest is read back after
 *       ({@link PublishCheck}), so the digest never describes bytes the store did not keep.</li>
 *   <li>Transient failures (5xx, dropped connections, unreachable endpoints) are retried with the environment's
 *       {@link RetryPolicy}; everything else fails at once with a {@link StorageException} naming the URI.</li>
 * </ul>
 */
public final class Storage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Storage.class);
    private static final Pattern CHECKPOINT_MANIFEST = Pattern.compile("(step-(\\d+))/" + Pattern.quote(Manifest.FILE_NAME));

    private final StorageEnvironment env;
    private final DownloadCache cache;
    private final HttpDownloader http;
    private final Map<Scheme, Store> stores = new EnumMap<>(Scheme.class);

    private Storage(Path cacheDir, StorageEnvironment env) {
        this.env = env;
        this.cache = new DownloadCache(cacheDir);
        this.http = new HttpDownloader(env.connectTimeout());
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
        StorageUri dir = StorageUri.parse(uri);
        Store store = store(dir);
        Optional<Path> local = store.localPath(dir);
        if (local.isPresent()) {
            if (!Files.isDirectory(local.get())) {
                throw new StorageException(StorageException.Reason.NOT_FOUND, uri, "no such directory " + local.get());
            }
            verifySizes(local.get(), uri);
            return local.get();
        }
        List<RemoteFile> listing = env.retry().call("list " + uri, () -> store.list(dir));
        if (listing.isEmpty()) {
            throw new StorageException(StorageException.Reason.NOT_FOUND, uri, "no files at this location");
        }
        Path base = cache.base(dir);
        List<RemoteFile> wanted = new ArrayList<>();
        Optional<RemoteFile> manifestFile = listing.stream().filter(f -> f.path().equals(Manifest.FILE_NAME)).findFirst();
        if (manifestFile.isPresent()) {
            // Our own upload: the manifest is authoritative (sizes + sha256) and excludes checkpoints/ and stale files.
            Manifest manifest = Manifest.parse(readBytes(dir.child(Manifest.FILE_NAME)), dir.child(Manifest.FILE_NAME).raw());
            for (ManifestEntry e : manifest.files()) {
                if (listing.stream().noneMatch(f -> f.path().equals(e.path()))) {
                    throw new StorageException(StorageException.Reason.INTEGRITY, uri,
                            "manifest.json lists " + e.path() + " but it is not there");
                }
                wanted.add(new RemoteFile(e.path(), e.sizeBytes(), Optional.of(e.sha256())));
            }
            wanted.add(manifestFile.get());
        } else {
            wanted.addAll(listing);
        }
        long bytes = wanted.stream().mapToLong(f -> Math.max(0, f.sizeBytes())).sum();
        LOG.info("Fetching {} ({} files, {} bytes) into {}", uri, wanted.size(), bytes, DownloadCache.files(base));
        for (RemoteFile f : wanted) {
            fetchInto(store, dir.child(f.path()), base, f);
        }
        return DownloadCache.files(base);
    }

    /** A single file (dataset): local path of a verified copy (or the file itself for file:// and pvc://). */
    public Path fetchFile(String uri) throws StorageException {
        StorageUri file = StorageUri.parse(uri);
        Store store = store(file);
        Optional<Path> local = store.localPath(file);
        if (local.isPresent()) {
            if (!Files.isRegularFile(local.get())) {
                throw new StorageException(StorageException.Reason.NOT_FOUND, uri, "no such file " + local.get());
            }
            return local.get();
        }
        if (file.fileName().isEmpty()) {
            throw new StorageException(StorageException.Reason.INVALID_URI, uri, "names a directory, not a file");
        }
        RemoteFile expected = env.retry().call("stat " + uri, () -> store.stat(file));
        Path base = cache.base(file);
        return fetchInto(store, file, base, new RemoteFile(file.fileName(), expected.sizeBytes(), expected.sha256()));
    }

    /** Uploads every file of {@code localDir} (except checkpoints/) to {@code destinationUri}, manifest.json last. */
    public PublishedArtifact publish(Path localDir, String destinationUri) throws StorageException {
        StorageUri dest = StorageUri.parse(destinationUri);
        Store store = store(dest);
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
        StorageUri manifestUri = dest.child(Manifest.FILE_NAME);
        // An older manifest next to half-replaced files would certify the wrong bytes: remove it first.
        env.retry().call("delete " + manifestUri, () -> {
            store.delete(manifestUri);
            return null;
        });
        LOG.info("Publishing {} ({} files, {} bytes) to {}", localDir, manifest.files().size(), manifest.totalBytes(), dest);
        for (ManifestEntry e : manifest.files()) {
            StorageUri target = dest.child(e.path());
            env.retry().call("upload " + target, () -> {
                store.upload(localDir.resolve(e.path()), target);
                return null;
            });
        }
        PublishCheck.objects(store, env.retry(), localDir, dest, manifest);
        Path tmp = null;
        try {
            tmp = Files.createTempFile("manifest", ".json");
            Files.write(tmp, manifestBytes);
            Path source = tmp;
            env.retry().call("upload " + manifestUri, () -> {
                store.upload(source, manifestUri);
                return null;
            });
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, destinationUri, "cannot stage manifest.json: " + e, e);
        } finally {
            deleteQuietly(tmp);
        }
        try {
            PublishCheck.manifest(manifestUri, manifestBytes, readBytes(manifestUri));
        } catch (StorageException e) {
            // manifest-last: a manifest the store did not keep intact must not stay behind to certify anything
            try {
                env.retry().call("delete " + manifestUri, () -> {
                    store.delete(manifestUri);
                    return null;
                });
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
    public Optional<PublishedArtifact> readArtifact(String uri) throws StorageException {
        StorageUri dir = StorageUri.parse(uri);
        Store store = store(dir);
        StorageUri manifestUri = dir.child(Manifest.FILE_NAME);
        boolean present = env.retry().call("list " + uri, () -> store.list(dir)).stream()
                .anyMatch(f -> f.path().equals(Manifest.FILE_NAME));
        if (!present) {
            return Optional.empty();
        }
        byte[] bytes = readBytes(manifestUri);
        Manifest manifest = Manifest.parse(bytes, manifestUri.raw());
        return Optional.of(new PublishedArtifact(dir.raw(), Manifest.digestOf(bytes), manifest.totalBytes(), manifest.files()));
    }

    /** Publishes {@code localCheckpointDir} (named step-N) to {@code <destination>/checkpoints/step-N/}. */
    public void publishCheckpoint(Path localCheckpointDir, String destinationUri) throws StorageException {
        String name = localCheckpointDir.getFileName().toString();
        if (!name.matches("step-\\d+")) {
            throw new IllegalArgumentException("checkpoint directory must be named step-<N>, got " + localCheckpointDir);
        }
        publish(localCheckpointDir, checkpoints(destinationUri).child(name).raw());
    }

    /** The newest complete checkpoint (highest N with a manifest) under {@code <destination>/checkpoints/}, fetched locally. */
    public Optional<Path> fetchLatestCheckpoint(String destinationUri) throws StorageException {
        StorageUri dir = checkpoints(destinationUri);
        Store store = store(dir);
        List<RemoteFile> listing = env.retry().call("list " + dir, () -> store.list(dir));
        String best = null;
        long bestStep = -1;
        for (RemoteFile f : listing) {
            Matcher m = CHECKPOINT_MANIFEST.matcher(f.path());
            if (m.matches() && Long.parseLong(m.group(2)) > bestStep) {
                bestStep = Long.parseLong(m.group(2));
                best = m.group(1);
            }
        }
        if (best == null) {
            LOG.info("No complete checkpoint under {}", dir);
            return Optional.empty();
        }
        LOG.info("Resuming from checkpoint {}", dir.child(best));
        return Optional.of(fetchDirectory(dir.child(best).raw()));
    }

    /**
     * Deletes all but the {@code keepLatest} newest complete checkpoints under {@code <destination>/checkpoints/}; incomplete
     * ones older than the newest kept are removed too. Each checkpoint's manifest goes first, so a reader never resumes from
     * a half-deleted one. Returns the names removed (step-N).
     */
    public List<String> pruneCheckpoints(String destinationUri, int keepLatest) throws StorageException {
        if (keepLatest < 1) {
            throw new IllegalArgumentException("keepLatest must be >= 1, got " + keepLatest);
        }
        StorageUri dir = checkpoints(destinationUri);
        Store store = store(dir);
        List<RemoteFile> listing = env.retry().call("list " + dir, () -> store.list(dir));
        TreeMap<Long, List<String>> filesByStep = new TreeMap<>();
        Set<Long> complete = new HashSet<>();
        Pattern stepFile = Pattern.compile("step-(\\d+)/(.+)");
        for (RemoteFile f : listing) {
            Matcher m = stepFile.matcher(f.path());
            if (m.matches()) {
                long step = Long.parseLong(m.group(1));
                filesByStep.computeIfAbsent(step, k -> new ArrayList<>()).add(m.group(2));
                if (m.group(2).equals(Manifest.FILE_NAME)) {
                    complete.add(step);
                }
            }
        }
        List<Long> kept = complete.stream().sorted(Comparator.reverseOrder()).limit(keepLatest).toList();
        long oldestKept = kept.isEmpty() ? Long.MIN_VALUE : kept.get(kept.size() - 1);
        List<String> removed = new ArrayList<>();
        for (var e : filesByStep.entrySet()) {
            if (kept.contains(e.getKey()) || e.getKey() > oldestKept) {
                continue;   // kept, or newer than every kept one (possibly still being uploaded)
            }
            StorageUri stepDir = dir.child("step-" + e.getKey());
            List<String> files = new ArrayList<>(e.getValue());
            files.sort(Comparator.comparing((String f) -> !f.equals(Manifest.FILE_NAME)));
            for (String f : files) {
                env.retry().call("delete " + stepDir.child(f), () -> {
                    store.delete(stepDir.child(f));
                    return null;
                });
            }
            removed.add("step-" + e.getKey());
        }
        if (!removed.isEmpty()) {
            LOG.info("Pruned checkpoints {} under {}", removed, dir);
        }
        return removed;
    }

    /** For file:// and pvc://: the local path {@code uri} maps to (it need not exist); empty for remote schemes. */
    public Optional<Path> localPath(String uri) throws StorageException {
        StorageUri u = StorageUri.parse(uri);
        return store(u).localPath(u);
    }

    /** Paths (relative, '/'-separated) of every file under {@code uri}; empty when nothing is there. */
    public List<String> listFiles(String uri) throws StorageException {
        StorageUri dir = StorageUri.parse(uri);
        Store store = store(dir);
        return env.retry().call("list " + uri, () -> store.list(dir)).stream().map(RemoteFile::path).toList();
    }

    /** Uploads one local file to {@code uri} (a marker; artifacts go through {@link #publish}). */
    public void uploadFile(Path source, String uri) throws StorageException {
        StorageUri target = StorageUri.parse(uri);
        Store store = store(target);
        env.retry().call("upload " + target, () -> {
            store.upload(source, target);
            return null;
        });
    }

    /** The bytes of one small file (a marker or manifest) at {@code uri}. */
    public byte[] readSmallFile(String uri) throws StorageException {
        return readBytes(StorageUri.parse(uri));
    }

    @Override
    public void close() {
        stores.values().forEach(Store::close);
        stores.clear();
    }

    private static StorageUri checkpoints(String destinationUri) {
        return StorageUri.parse(destinationUri).child(Manifest.CHECKPOINTS_DIR);
    }

    private Path fetchInto(Store store, StorageUri file, Path base, RemoteFile expected) {
        if (cache.isCached(base, expected)) {
            return DownloadCache.files(base).resolve(expected.path());
        }
        cache.prepare(base, expected.path(), file.raw());
        Path part = cache.partFile(base, expected.path());
        RemoteFile got = env.retry().call("download " + file, () -> store.download(file, expected, part), () -> sizeOf(part));
        return cache.commit(base, expected.path(), expected.or(got), file.raw());
    }

    /**
     * A local directory we published carries manifest.json: check every listed file is there with its size (cheap; the
     * sha256 of multi-GB weights on a PVC would cost minutes), so a half-copied volume fails here, not in the model loader.
     */
    private static void verifySizes(Path dir, String uri) {
        Path manifestFile = dir.resolve(Manifest.FILE_NAME);
        if (!Files.isRegularFile(manifestFile)) {
            return;
        }
        try {
            for (ManifestEntry e : Manifest.parse(Files.readAllBytes(manifestFile), uri + "/" + Manifest.FILE_NAME).files()) {
                Path f = dir.resolve(e.path());
                if (!Files.isRegularFile(f) || Files.size(f) != e.sizeBytes()) {
                    throw new StorageException(StorageException.Reason.INTEGRITY, uri, "manifest.json lists " + e.path() + " ("
                            + e.sizeBytes() + " bytes) but " + (Files.isRegularFile(f) ? "it has " + Files.size(f) + " bytes"
                                    : "it is missing"));
                }
            }
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, uri, "cannot read " + manifestFile + ": " + e, e);
        }
    }

    private static long sizeOf(Path part) {
        try {
            return Files.exists(part) ? Files.size(part) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private byte[] readBytes(StorageUri file) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("storage", ".part");
            Files.delete(tmp);
            Path part = tmp;
            env.retry().call("download " + file, () -> store(file).download(file, RemoteFile.unknown(file.fileName()), part));
            return Files.readAllBytes(part);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot read downloaded file: " + e, e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    private synchronized Store store(StorageUri uri) {
        return stores.computeIfAbsent(uri.scheme(), s -> switch (s) {
            case FILE -> new FileStore();
            case PVC -> new PvcStore(env.pvcRoot());
            case HTTP, HTTPS -> new HttpStore(http);
            case S3 -> S3Store.create(env);
            case HF -> new HfStore(env, http);
        });
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // temp file in /tmp; nothing depends on it
            }
        }
    }
}
