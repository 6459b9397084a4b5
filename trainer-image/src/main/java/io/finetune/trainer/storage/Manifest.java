package io.finetune.trainer.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.finetune.trainer.layout.RunLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * manifest.json: the file list (path, size, sha256) of a published directory, written last so that its presence means the
 * upload is complete. The artifact digest is the sha256 of its exact bytes.
 */
public record Manifest(List<ManifestEntry> files) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public Manifest {
        files = List.copyOf(files);
    }

    /** Hashes every regular file under {@code dir} except manifest.json and checkpoints/, sorted by path. */
    public static Manifest of(Path dir) throws IOException {
        List<ManifestEntry> entries = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                String rel = dir.relativize(p).toString().replace('\\', '/');
                // checkpoints are published separately (publishCheckpoint) and are not part of the artifact
                if (rel.equals(RunLayout.MANIFEST) || RunLayout.isUnderCheckpoints(rel)) {
                    continue;
                }
                entries.add(new ManifestEntry(rel, Files.size(p), sha256(p)));
            }
        }
        entries.sort(Comparator.comparing(ManifestEntry::path));
        return new Manifest(entries);
    }

    public long totalBytes() {
        return files.stream().mapToLong(ManifestEntry::sizeBytes).sum();
    }

    public byte[] toBytes() {
        ObjectNode root = JSON.createObjectNode();
        root.put("formatVersion", 1);
        root.put("totalBytes", totalBytes());
        ArrayNode arr = root.putArray("files");
        for (ManifestEntry e : files) {
            arr.addObject().put("path", e.path()).put("sizeBytes", e.sizeBytes()).put("sha256", e.sha256());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses manifest bytes read from {@code uri}; a malformed manifest is an integrity failure naming the URI. */
    public static Manifest parse(byte[] bytes, String uri) {
        try {
            JsonNode root = JSON.readTree(bytes);
            List<ManifestEntry> entries = new ArrayList<>();
            for (JsonNode f : root.path("files")) {
                String path = f.path("path").asText("");
                String sha = f.path("sha256").asText("");
                if (path.isEmpty() || path.contains("..") || path.startsWith("/") || !f.path("sizeBytes").canConvertToLong()
                        || !sha.matches("[0-9a-f]{64}")) {
                    throw new StorageException(StorageException.Reason.INTEGRITY, uri, RunLayout.MANIFEST + " has a malformed entry: " + f);
                }
                entries.add(new ManifestEntry(path, f.path("sizeBytes").asLong(), sha));
            }
            if (!root.path("files").isArray()) {
                throw new StorageException(StorageException.Reason.INTEGRITY, uri, RunLayout.MANIFEST + " has no \"files\" array");
            }
            return new Manifest(entries);
        } catch (IOException e) {
            throw new StorageException(StorageException.Reason.INTEGRITY, uri, RunLayout.MANIFEST + " is not valid JSON", e);
        }
    }

    public static String digestOf(byte[] manifestBytes) {
        return "sha256:" + hex(sha256Digest().digest(manifestBytes));
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha256Digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return hex(md.digest());
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK without SHA-256", e);
        }
    }
}
