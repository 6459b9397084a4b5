package io.finetune.trainer.storage;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Wraps a real store: records upload order and downloads, can fail the N-th upload, like a pod killed mid-publish, can fail
 * chosen deletes, like a pod killed mid-prune, and can damage what was stored, like a faulty volume.
 */
final class RecordingStore implements Store {
    private final Store real;
    final List<String> uploads = new CopyOnWriteArrayList<>();
    /** Every download, by URI (a download of any size: weights, manifests, markers). */
    final List<String> downloads = new CopyOnWriteArrayList<>();
    /** Deletes of the URIs this selects fail as if the pod were killed there. */
    volatile Predicate<StorageUri> failDelete = uri -> false;
    /** Uploads left before the next one fails; negative = never fail. */
    final AtomicInteger failAfterUploads = new AtomicInteger(-1);
    /** Runs after each successful upload with the target: lets a test damage what the store now holds. */
    volatile Consumer<StorageUri> afterUpload = uri -> { };

    RecordingStore(Store real) {
        this.real = real;
    }

    @Override
    public List<RemoteFile> list(StorageUri dir) {
        return real.list(dir);
    }

    @Override
    public RemoteFile stat(StorageUri file) {
        return real.stat(file);
    }

    @Override
    public RemoteFile download(StorageUri file, RemoteFile expected, Path part) {
        downloads.add(file.raw());
        return real.download(file, expected, part);
    }

    @Override
    public void upload(Path source, StorageUri file) {
        if (failAfterUploads.getAndDecrement() == 0) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "pod killed (test)");
        }
        real.upload(source, file);
        uploads.add(file.raw());
        afterUpload.accept(file);
    }

    @Override
    public StoredObject inspect(StorageUri file) {
        return real.inspect(file);
    }

    @Override
    public void delete(StorageUri file) {
        if (failDelete.test(file)) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "pod killed (test)");
        }
        real.delete(file);
    }

    @Override
    public void close() {
        real.close();
    }
}
