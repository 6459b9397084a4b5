package io.finetune.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository checkout tests run in: {@code -Drepo.root}, else the nearest folder up from the working directory holding crds/. */
public final class RepoRoot {
    private RepoRoot() {
    }

    public static Path find() {
        String prop = System.getProperty("repo.root");
        Path p = prop != null ? Path.of(prop).toAbsolutePath() : Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("crds"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root (a folder holding crds/)");
        }
        return p;
    }
}
