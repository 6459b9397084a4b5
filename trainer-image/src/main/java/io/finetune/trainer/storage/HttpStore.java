package io.finetune.trainer.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** http:// and https://: single files (datasets, one weights file), read-only, resumable and size-checked. */
final class HttpStore implements Store {
    private final HttpDownloader downloader;

    HttpStore(HttpDownloader downloader) {
        this.downloader = downloader;
    }

    @Override
    public List<RemoteFile> list(StorageUri dir) {
        throw new StorageException(StorageException.Reason.INVALID_URI, dir.raw(),
                dir.scheme().prefix() + ":// addresses single files; a model directory needs s3://, pvc://, file:// or hf://");
    }

    @Override
    public RemoteFile stat(StorageUri file) {
        return RemoteFile.unknown(file.fileName());
    }

    @Override
    public RemoteFile download(StorageUri file, RemoteFile expected, Path part) {
        return downloader.download(file.raw(), toUri(file), Optional.empty(), expected, part);
    }

    @Override
    public void upload(Path source, StorageUri file) {
        throw Store.readOnly(file);
    }

    @Override
    public void delete(StorageUri file) {
        throw Store.readOnly(file);
    }

    private static URI toUri(StorageUri file) {
        try {
            return new URI(file.raw());
        } catch (URISyntaxException e) {
            throw new StorageException(StorageException.Reason.INVALID_URI, file.raw(), "not a valid URL", e);
        }
    }
}
