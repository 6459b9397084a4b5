package io.finetune.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates files of the repository from the testkit tests. */
final class RepoFiles {
    private RepoFiles() {
    }

    static Path root() {
        String prop = System.getProperty("repo.root");
        Path p = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("crds"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root (a folder holding crds/)");
        }
        return p;
    }

    static Path crd() {
        return root().resolve("crds/finetunejobs.finetune.io-v1.yml");
    }

    static Path example(String name) {
        return root().resolve("examples").resolve(name);
    }
}
