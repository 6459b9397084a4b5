package io.finetune.trainer.storage;

import java.util.List;

/** A directory published with its manifest.json; {@code digest} = "sha256:" + hex sha256 of the manifest bytes. */
public record PublishedArtifact(String uri, String digest, long sizeBytes, List<ManifestEntry> files) {
    public PublishedArtifact {
        files = List.copyOf(files);
    }
}
