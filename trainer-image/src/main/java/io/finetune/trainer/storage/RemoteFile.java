package io.finetune.trainer.storage;

import java.util.Optional;

/**
 * What a store knows about one file before (or after) downloading it.
 *
 * @param path relative path under the listed directory ('/'-separated), or the file name for single files
 * @param sizeBytes size in bytes, or -1 when the source does not say
 * @param sha256 lowercase hex sha256 when the source provides one (our manifest.json, the hub's LFS ETag)
 */
record RemoteFile(String path, long sizeBytes, Optional<String> sha256) {
    static RemoteFile unknown(String path) {
        return new RemoteFile(path, -1, Optional.empty());
    }

    /** Fills what this one leaves unknown from {@code other}. */
    RemoteFile or(RemoteFile other) {
        return new RemoteFile(path, sizeBytes >= 0 ? sizeBytes : other.sizeBytes, sha256.or(other::sha256));
    }
}
