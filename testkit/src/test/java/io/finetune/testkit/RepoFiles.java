package io.finetune.testkit;

import java.nio.file.Path;

/** Locates files of the repository from the testkit tests. */
final class RepoFiles {
    private RepoFiles() {
    }

    static Path root() {
        return RepoRoot.find();
    }

    static Path crd() {
        return root().resolve("crds/finetunejobs.finetune.io-v1.yml");
    }

    static Path example(String name) {
        return root().resolve("examples").resolve(name);
    }
}
