package io.finetune.trainer.distributed;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The built libfinetune_gloo.so for tests. hack/test.sh builds it (hack/build-gloo-jni.sh) and sets
 * {@value GlooLibrary#LIBRARY_ENV} and {@value #REQUIRE_ENV}=true, so a missing library fails the tests there; a bare
 * {@code mvn test} without it skips them with this message.
 */
final class GlooTestLibrary {
    static final String REQUIRE_ENV = "FINETUNE_REQUIRE_GLOO";

    private GlooTestLibrary() {
    }

    /** The library's path, or the test is skipped (failed under {@value #REQUIRE_ENV}=true). */
    static Path require() {
        Path library = GlooLibrary.location(System.getenv());
        if (Files.isRegularFile(library)) {
            return library.toAbsolutePath();
        }
        String why = "the Gloo binding is not built: " + library + " does not exist (run hack/build-gloo-jni.sh and set "
                + GlooLibrary.LIBRARY_ENV + " to the path it prints)";
        if ("true".equalsIgnoreCase(System.getenv(REQUIRE_ENV))) {
            fail(why + "; " + REQUIRE_ENV + "=true requires it");
        }
        Assumptions.abort(why + "; set " + REQUIRE_ENV + "=true to fail instead");
        return null;
    }
}
