package io.finetune.charts;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates files of the repository from the charts module's tests. */
final class RepoFiles {
    private RepoFiles() {
    }

    static Path root() {
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

    static Path chart() {
        return root().resolve("charts/finetune-operator");
    }

    static Path committedCrd() {
        return root().resolve("crds/finetunejobs.finetune.io-v1.yml");
    }

    static Path chartCrd() {
        return chart().resolve("crds/finetunejobs.finetune.io-v1.yml");
    }
}
