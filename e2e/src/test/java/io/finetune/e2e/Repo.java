package io.finetune.e2e;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of the repository and its build outputs that the end-to-end test runs. */
final class Repo {
    private Repo() {
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

    static Path trainerJar() {
        return built(root().resolve("trainer-image/target/finetune-trainer.jar"), "trainer-image");
    }

    static Path operatorJar() {
        return built(root().resolve("operator/target/quarkus-app/quarkus-run.jar"), "operator");
    }

    /** QOSDK's generated RBAC (ServiceAccount, ClusterRoles, bindings) for the operator. */
    static Path operatorManifests() {
        return built(root().resolve("operator/target/kubernetes/kubernetes.yml"), "operator");
    }

    static Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    private static Path built(Path p, String module) {
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(p + " is missing: package the " + module + " module first (mvn -B verify from the"
                    + " repository root builds it before this module)");
        }
        return p;
    }
}
