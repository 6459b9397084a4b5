package io.finetune.charts;

import io.finetune.testkit.RepoRoot;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates files of the repository from the charts module's tests. */
final class RepoFiles {
    private RepoFiles() {
    }

    static Path root() {
        return RepoRoot.find();
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
