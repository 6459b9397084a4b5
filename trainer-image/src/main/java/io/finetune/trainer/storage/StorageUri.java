package io.finetune.trainer.storage;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A parsed storage location.
 * <ul>
 *   <li>{@code file:///abs/path} or a plain path: {@code path} is the local path.</li>
 *   <li>{@code pvc://claim/path}: {@code authority} = claim, {@code path} under it.</li>
 *   <li>{@code s3://bucket/prefix}: {@code authority} = bucket, {@code path} = key or key prefix (no leading/trailing '/').</li>
 *   <li>{@code http(s)://host/...}: {@code raw} is the URL.</li>
 *   <li>{@code hf://org/name[@revision][/path]}: {@code authority} = "org/name", revision (default "main"), path in the repo;
 *       {@code hf://datasets/org/name...} is a dataset repo ({@code authority} = "datasets/org/name").
 *       A revision containing '/' (refs/pr/1) is not expressible; use the commit sha.</li>
 * </ul>
 */
public record StorageUri(Scheme scheme, String raw, String authority, String path, Optional<String> revision) {
    /** Repo-type prefix of Hugging Face dataset repos: hf://datasets/org/name[@revision][/path]. */
    public static final String DATASETS_PREFIX = "datasets/";

    public static StorageUri parse(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new StorageException(StorageException.Reason.INVALID_URI, String.valueOf(uri), "empty storage URI");
        }
        String u = uri.trim();
        int sep = u.indexOf("://");
        if (sep < 0) {
            return new StorageUri(Scheme.FILE, u, "", u, Optional.empty());
        }
        String prefix = u.substring(0, sep);
        String rest = u.substring(sep + 3);
        Scheme scheme = null;
        for (Scheme s : Scheme.values()) {
            if (s.prefix().equalsIgnoreCase(prefix)) {
                scheme = s;
            }
        }
        if (scheme == null) {
            throw invalid(u, "unknown scheme '" + prefix + "' (supported: file, pvc, s3, http, https, hf)");
        }
        switch (scheme) {
            case FILE:
                if (rest.isEmpty()) {
                    throw invalid(u, "file:// needs a path");
                }
                return new StorageUri(scheme, u, "", rest, Optional.empty());
            case HTTP:
            case HTTPS:
                if (rest.isEmpty() || rest.startsWith("/")) {
                    throw invalid(u, "URL needs a host");
                }
                int hostEnd = rest.indexOf('/') < 0 ? rest.length() : rest.indexOf('/');
                if (rest.substring(0, hostEnd).contains("@")) {
                    // Never echo it: the part before '@' is a password.
                    throw invalid(prefix + "://***@" + rest.substring(rest.lastIndexOf('@', hostEnd) + 1),
                            "credentials in the URL are not allowed; put them in the job's Secret");
                }
                return new StorageUri(scheme, u, "", rest, Optional.empty());
            case HF:
                return parseHub(u, rest);
            default: {
                int slash = rest.indexOf('/');
                String authority = slash < 0 ? rest : rest.substring(0, slash);
                String path = trimSlashes(slash < 0 ? "" : rest.substring(slash + 1));
                if (authority.isEmpty()) {
                    throw invalid(u, scheme == Scheme.S3 ? "s3:// needs a bucket name" : "pvc:// needs a claim name");
                }
                if (path.contains("..") || path.contains("//")) {
                    throw invalid(u, "path may not contain '..' or empty segments");
                }
                return new StorageUri(scheme, u, authority, path, Optional.empty());
            }
        }
    }

    private static StorageUri parseHub(String u, String rest) {
        // hf://datasets/org/name... addresses a dataset repo, as in huggingface_hub's HfFileSystem.
        String type = "";
        if (rest.startsWith(DATASETS_PREFIX)) {
            type = DATASETS_PREFIX;
            rest = rest.substring(DATASETS_PREFIX.length());
        }
        String[] parts = rest.split("/", 3);
        if (parts.length < 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw invalid(u, "hf:// needs org/name, e.g. hf://meta-llama/Llama-3.2-1B@main");
        }
        String name = parts[1];
        Optional<String> revision = Optional.empty();
        int at = name.indexOf('@');
        if (at >= 0) {
            revision = Optional.of(name.substring(at + 1));
            name = name.substring(0, at);
            if (revision.get().isEmpty() || name.isEmpty()) {
                throw invalid(u, "hf:// revision after '@' is empty");
            }
        }
        String path = parts.length == 3 ? trimSlashes(parts[2]) : "";
        if (path.contains("..")) {
            throw invalid(u, "path may not contain '..'");
        }
        return new StorageUri(Scheme.HF, u, type + parts[0] + "/" + name, path, revision);
    }

    /** The location of {@code relative} ('/'-separated) under this one. */
    public StorageUri child(String relative) {
        String rel = trimSlashes(relative);
        String base = raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw;
        String joinedPath = path.isEmpty() ? rel : (path.endsWith("/") ? path + rel : path + "/" + rel);
        return new StorageUri(scheme, base + "/" + rel, authority, joinedPath, revision);
    }

    /** Last path segment: the file name a single-file download is stored under. */
    public String fileName() {
        String p = trimSlashes(path);
        int slash = p.lastIndexOf('/');
        String name = slash < 0 ? p : p.substring(slash + 1);
        int query = name.indexOf('?');
        return query < 0 ? name : name.substring(0, query);
    }

    /**
     * The local path of a file:// URI (or a plain path), absolute and normalised, for a command that only reads a local
     * file it names (the quick start's own files, plan's config.json); any other scheme is an INVALID_URI error.
     */
    public static Path localFile(String uri) {
        StorageUri u = parse(uri);
        if (u.scheme() != Scheme.FILE) {
            throw invalid(u.raw(), "a local file:// path is needed here, not " + u.scheme().prefix() + "://");
        }
        return u.localPath().toAbsolutePath().normalize();
    }

    /** For FILE: the local path. */
    Path localPath() {
        return Path.of(path);
    }

    @Override
    public String toString() {
        return raw;
    }

    private static String trimSlashes(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && s.charAt(b) == '/') {
            b++;
        }
        while (e > b && s.charAt(e - 1) == '/') {
            e--;
        }
        return s.substring(b, e);
    }

    private static StorageException invalid(String uri, String why) {
        return new StorageException(StorageException.Reason.INVALID_URI, uri, why);
    }
}
