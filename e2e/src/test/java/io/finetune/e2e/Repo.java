package io.finetune.e2e;

import io.finetune.testkit.RepoRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Files of the repository and its build outputs that the end-to-end test runs. */
final class Repo {
    private Repo() {
    }

    static Path root() {
        return RepoRoot.find();
    }

    static Path crd() {
        return root().resolve("crds/finetunejobs.finetune.io-v1.yml");
    }

    /**
     * The committed CRD without its CEL rules ({@code x-kubernetes-validations}): Kubernetes 1.20 does not know the field,
     * drops it on create and rejects it in server-side apply; the operator reports SpecChangeIgnored there instead.
     */
    static Path crdFor120(Path dir) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        int skipDeeperThan = -1;
        for (String line : Files.readAllLines(crd())) {
            int indent = line.length() - line.stripLeading().length();
            if (skipDeeperThan >= 0) {
                boolean inside = indent > skipDeeperThan || (indent == skipDeeperThan && line.stripLeading().startsWith("- "));
                if (inside) {
                    continue;
                }
                skipDeeperThan = -1;
            }
            if (line.stripLeading().startsWith("x-kubernetes-validations:")) {
                skipDeeperThan = indent;
                continue;
            }
            out.add(line);
        }
        return Files.write(dir.resolve("finetunejobs.finetune.io-v1-k8s120.yml"), out);
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
