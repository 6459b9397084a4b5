package io.finetune.trainer.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The stores of one {@link Storage}, one per scheme, created on first use, and the retried calls every job of storage
 * (fetching, publishing, remote checkpoints) makes on them: one place that applies the environment's {@link RetryPolicy}.
 */
final class Stores implements AutoCloseable {
    private final StorageEnvironment env;
    private final HttpDownloader http;
    private final Map<Scheme, Store> byScheme = new EnumMap<>(Scheme.class);

    Stores(StorageEnvironment env) {
        this.env = env;
        this.http = new HttpDownloader(env.connectTimeout());
    }

    RetryPolicy retry() {
        return env.retry();
    }

    /** Replaces the store of one scheme (tests: wrap the real store with failure switches). */
    synchronized void put(Scheme scheme, Store store) {
        byScheme.put(scheme, store);
    }

    synchronized Store of(StorageUri uri) {
        return byScheme.computeIfAbsent(uri.scheme(), s -> switch (s) {
            case FILE -> new FileStore();
            case PVC -> new PvcStore(env.pvcRoot());
            case HTTP, HTTPS -> new HttpStore(http);
            case S3 -> S3Store.create(env);
            case HF -> new HfStore(env, http);
        });
    }

    List<RemoteFile> list(StorageUri dir) {
        Store store = of(dir);
        return env.retry().call("list " + dir, () -> store.list(dir));
    }

    void upload(Path source, StorageUri target) {
        Store store = of(target);
        env.retry().call("upload " + target, () -> {
            store.upload(source, target);
            return null;
        });
    }

    void delete(StorageUri file) {
        Store store = of(file);
        env.retry().call("delete " + file, () -> {
            store.delete(file);
            return null;
        });
    }

    /** The bytes of one small file (a marker or manifest). */
    byte[] readBytes(StorageUri file) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("storage", ".part");
            Files.delete(tmp);
            Path part = tmp;
            env.retry().call("download " + file, () -> of(file).download(file, RemoteFile.unknown(file.fileName()), part));
            return Files.readAllBytes(part);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot read downloaded file: " + e, e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    @Override
    public synchronized void close() {
        byScheme.values().forEach(Store::close);
        byScheme.clear();
    }

    static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // temp file in /tmp; nothing depends on it
            }
        }
    }
}
