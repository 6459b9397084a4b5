package io.finetune.trainer.distributed;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The built libfinetune_nccl.so for tests. hack/test.sh builds it (hack/build-nccl-jni.sh, gcc only) and sets
 * {@value NcclLibrary#LIBRARY_ENV} and {@value #REQUIRE_ENV}=true, so a missing binding fails the tests there; a bare
 * {@code mvn test} without it skips them with this message.
 */
final class NcclTestLibrary {
    static final String REQUIRE_ENV = "FINETUNE_REQUIRE_NCCL_BINDING";

    private NcclTestLibrary() {
    }

    /** The binding's path, or the test is skipped (failed under {@value #REQUIRE_ENV}=true). */
    static Path require() {
        Path library = NcclLibrary.location(System.getenv());
        if (Files.isRegularFile(library)) {
            return library.toAbsolutePath();
        }
        String why = "the NCCL binding is not built: " + library + " does not exist (run hack/build-nccl-jni.sh and set "
                + NcclLibrary.LIBRARY_ENV + " to the path it prints)";
        if ("true".equalsIgnoreCase(System.getenv(REQUIRE_ENV))) {
            fail(why + "; " + REQUIRE_ENV + "=true requires it");
        }
        Assumptions.abort(why + "; set " + REQUIRE_ENV + "=true to fail instead");
        return null;
    }
}
