package io.finetune.trainer.storage;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * pvc://claim/path: the operator mounts claim X at {@code $FINETUNE_PVC_ROOT/X}. A claim that is not mounted is an error,
 * never a silently created directory on the container's ephemeral disk (that would lose the artifact with the pod).
 */
final class PvcStore extends LocalStore {
    private final Path root;

    PvcStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    @Override
    Path resolve(StorageUri uri) {
        Path claim = root.resolve(uri.authority()).normalize();
        if (!claim.startsWith(root) || !Files.isDirectory(claim)) {
            throw new StorageException(StorageException.Reason.NOT_FOUND, uri.raw(),
                    "claim '" + uri.authority() + "' is not mounted at " + claim);
        }
        Path p = uri.path().isEmpty() ? claim : claim.resolve(uri.path()).normalize();
        if (!p.startsWith(claim)) {
            throw new StorageException(StorageException.Reason.INVALID_URI, uri.raw(), "path escapes the claim");
        }
        return p;
    }
}
