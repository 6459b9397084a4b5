package io.finetune.trainer.storage;

import java.nio.file.Path;

/** file:///path or a plain path: local runs and tests. */
final class FileStore extends LocalStore {
    @Override
    Path resolve(StorageUri uri) {
        return uri.localPath().toAbsolutePath().normalize();
    }
}
