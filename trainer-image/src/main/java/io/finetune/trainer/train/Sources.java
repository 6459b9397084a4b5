package io.finetune.trainer.train;

import java.net.URI;
import java.nio.file.Path;

/** Resolves spec URIs for a local run: file:///absolute/path only (other schemes need the storage layer). */
public final class Sources {
    private Sources() {
    }

    public static Path local(String uri, String field) {
        URI u;
        try {
            u = URI.create(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ": '" + uri + "' is not a valid URI");
        }
        if (!"file".equals(u.getScheme())) {
            throw new UnsupportedOperationException(field + ": " + u.getScheme() + ":// sources are not supported in this build"
                    + " yet; use file:///absolute/path for a local run");
        }
        if (u.getAuthority() != null || u.getPath() == null || !u.getPath().startsWith("/")) {
            throw new IllegalArgumentException(field + ": '" + uri + "' must be an absolute file URI like file:///data/train.jsonl");
        }
        return Path.of(u.getPath());
    }
}
