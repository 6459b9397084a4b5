package io.finetune.trainer.storage;

/** One file of a published directory: path relative to the directory ('/'-separated), size, lowercase hex sha256. */
public record ManifestEntry(String path, long sizeBytes, String sha256) {
}
