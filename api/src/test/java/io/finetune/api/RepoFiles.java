package io.finetune.api;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates files of the repository from a module's tests. */
// The api module builds before testkit (which depends on it), so it cannot use testkit's RepoRoot: this is the one other
// copy of that rule (a folder holding crds/), kept identical.
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

    static Path committedCrd() {
        return root().resolve("crds/finetunejobs.finetune.io-v1.yml");
    }

    static Path generatedCrd() {
        return root().resolve("api/target/classes/META-INF/fabric8/finetunejobs.finetune.io-v1.yml");
    }
}
