package io.finetune.trainer.storage;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/** Shared code of the two schemes that are plain directories in the container (file://, pvc://). */
abstract class LocalStore implements Store {

    /** The local path of {@code uri}; throws when it cannot exist (e.g. the claim is not mounted). */
    abstract Path resolve(StorageUri uri);

    @Override
    public List<RemoteFile> list(StorageUri dir) {
        Path root = resolve(dir);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<RemoteFile> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.add(new RemoteFile(root.relativize(p).toString().replace('\\', '/'), Files.size(p), Optional.empty()));
            }
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, dir.raw(), "cannot list directory: " + e, e);
        }
        return out;
    }

    @Override
    public RemoteFile stat(StorageUri file) {
        Path p = resolve(file);
        if (!Files.isRegularFile(p)) {
            throw new StorageException(StorageException.Reason.NOT_FOUND, file.raw(), "no such file " + p);
        }
        try {
            return new RemoteFile(p.getFileName().toString(), Files.size(p), Optional.empty());
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot read file size: " + e, e);
        }
    }

    @Override
    public RemoteFile download(StorageUri file, RemoteFile expected, Path part) {
        Path p = resolve(file);
        try {
            Files.createDirectories(part.getParent());
            Files.copy(p, part, StandardCopyOption.REPLACE_EXISTING);
            return new RemoteFile(expected.path(), Files.size(part), Optional.empty());
        } catch (NoSuchFileException e) {
            throw new StorageException(StorageException.Reason.NOT_FOUND, file.raw(), "no such file " + p, e);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot copy: " + e, e);
        }
    }

    /** Copies to a hidden sibling, then renames: a reader sees the old file or the whole new one, never a prefix. */
    @Override
    public void upload(Path source, StorageUri file) {
        Path target = resolve(file);
        Path tmp = target.resolveSibling("." + target.getFileName() + ".partial-" + UUID.randomUUID());
        try {
            Files.createDirectories(target.getParent());
            Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot write " + target + ": " + e, e);
        }
    }

    /** Size and sha256 of the file as it is on disk now (read back, not taken from the source that was copied). */
    @Override
    public StoredObject inspect(StorageUri file) {
        Path p = resolve(file);
        try {
            return new StoredObject(Files.size(p), Optional.empty(), Optional.of(Manifest.sha256(p)));
        } catch (NoSuchFileException e) {
            throw new StorageException(StorageException.Reason.INTEGRITY, file.raw(), "was written but is not there: " + p, e);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot read back " + p + ": " + e, e);
        }
    }

    @Override
    public void delete(StorageUri file) {
        try {
            Files.deleteIfExists(resolve(file));
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.LOCAL_IO, file.raw(), "cannot delete: " + e, e);
        }
    }

    @Override
    public Optional<Path> localPath(StorageUri uri) {
        return Optional.of(resolve(uri));
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a leftover hidden .partial file is not part of any manifest
        }
    }
}
