package io.finetune.charts;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Another module's build output that a charts test reads (the operator's generated RBAC and fast-jar, the trainer's jar).
 * It exists when the reactor built that module before charts, as {@code mvn verify} over all modules does. When it is
 * missing the test is skipped (a {@code -pl charts} run), or fails when {@value #REQUIRE_ENV}{@code =true}: hack/test.sh
 * sets it, so the full test command never reports these checks as skipped.
 */
final class BuildOutput {
    static final String REQUIRE_ENV = "FINETUNE_REQUIRE_BUILD_OUTPUTS";

    private BuildOutput() {
    }

    /** {@code path} (relative to the repository root), or the calling test skipped / failed as described above. */
    static Path require(String path, String howToBuild) {
        return require(System.getenv(REQUIRE_ENV), path, howToBuild);
    }

    static Path require(String requireValue, String path, String howToBuild) {
        Path p = RepoFiles.root().resolve(path);
        if (Files.exists(p)) {
            return p;
        }
        String msg = p + " is not built (" + howToBuild + ")";
        if (Boolean.parseBoolean(requireValue)) {
            throw new IllegalStateException(msg + "; failing because " + REQUIRE_ENV + "=true");
        }
        Assumptions.abort(msg);
        throw new AssertionError("unreachable");
    }
}
