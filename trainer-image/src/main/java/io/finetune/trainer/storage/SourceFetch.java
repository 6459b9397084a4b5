package io.finetune.trainer.storage;

import io.finetune.trainer.layout.RunLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetching sources (model directories, dataset files, checkpoints to resume): remote ones land in the {@link DownloadCache},
 * verified by size and by sha256 where the source gives one (our own manifest.json, the hub's LFS ETag); file:// and
 * pvc:// are returned in place, never copied, after a cheap size check against their manifest.
 */
final class SourceFetch {
    private static final Logger LOG = LoggerFactory.getLogger(SourceFetch.class);

    private final Stores stores;
    private final DownloadCache cache;

    SourceFetch(Stores stores, Path cacheDir) {
        this.stores = stores;
        this.cache = new DownloadCache(cacheDir);
    }

    /** A model directory: local path of a verified copy (or the directory itself for file:// and pvc://). */
    Path directory(String uri) {
        StorageUri dir = StorageUri.parse(uri);
        Store store = stores.of(dir);
        Optional<Path> local = store.localPath(dir);
        if (local.isPresent()) {
            if (!Files.isDirectory(local.get())) {
                throw new StorageException(StorageException.Reason.NOT_FOUND, uri, "no such directory " + local.get());
            }
            verifySizes(local.get(), uri);
            return local.get();
        }
        List<RemoteFile> listing = stores.retry().call("list " + uri, () -> store.list(dir));
        if (listing.isEmpty()) {
            throw new StorageException(StorageException.Reason.NOT_FOUND, uri, "no files at this location");
        }
        Path base = cache.base(dir);
        List<RemoteFile> wanted = new ArrayList<>();
        Optional<RemoteFile> manifestFile = listing.stream().filter(f -> f.path().equals(RunLayout.MANIFEST)).findFirst();
        if (manifestFile.isPresent()) {
            // Our own upload: the manifest is authoritative (sizes + sha256) and excludes checkpoints/ and stale files.
            StorageUri manifestUri = dir.child(RunLayout.MANIFEST);
            Manifest manifest = Manifest.parse(stores.readBytes(manifestUri), manifestUri.raw());
            for (ManifestEntry e : manifest.files()) {
                if (listing.stream().noneMatch(f -> f.path().equals(e.path()))) {
                    throw new StorageException(StorageException.Reason.INTEGRITY, uri,
                            RunLayout.MANIFEST + " lists " + e.path() + " but it is not there");
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
    Path file(String uri) {
        StorageUri file = StorageUri.parse(uri);
        Store store = stores.of(file);
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
        RemoteFile expected = stores.retry().call("stat " + uri, () -> store.stat(file));
        Path base = cache.base(file);
        return fetchInto(store, file, base, new RemoteFile(file.fileName(), expected.sizeBytes(), expected.sha256()));
    }

    private Path fetchInto(Store store, StorageUri file, Path base, RemoteFile expected) {
        if (cache.isCached(base, expected)) {
            return DownloadCache.files(base).resolve(expected.path());
        }
        cache.prepare(base, expected.path(), file.raw());
        Path part = cache.partFile(base, expected.path());
        RemoteFile got = stores.retry().call("download " + file, () -> store.download(file, expected, part),
                () -> sizeOf(part));
        return cache.commit(base, expected.path(), expected.or(got), file.raw());
    }

    /**
     * A local directory we published carries manifest.json: check every listed file is there with its size (cheap; the
     * sha256 of multi-GB weights on a PVC would cost minutes), so a half-copied volume fails here, not in the model loader.
     */
    private static void verifySizes(Path dir, String uri) {
        Path manifestFile = dir.resolve(RunLayout.MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            return;
        }
        try {
            for (ManifestEntry e : Manifest.parse(Files.readAllBytes(manifestFile), uri + "/" + RunLayout.MANIFEST).files()) {
                Path f = dir.resolve(e.path());
                if (!Files.isRegularFile(f) || Files.size(f) != e.sizeBytes()) {
                    throw new StorageException(StorageException.Reason.INTEGRITY, uri, RunLayout.MANIFEST + " lists "
                            + e.path() + " (" + e.sizeBytes() + " bytes) but " + (Files.isRegularFile(f) ? "it has "
                            + Files.size(f) + " bytes" : "it is missing"));
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
}
