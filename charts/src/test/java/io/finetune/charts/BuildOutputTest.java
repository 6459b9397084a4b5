package io.finetune.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

class BuildOutputTest {
    private static final String MISSING = "operator/target/no-such-output";

    @Test
    void aMissingOutputFailsWhenTheTestCommandRequiresIt() {
        assertThatThrownBy(() -> BuildOutput.require("true", MISSING, "mvn -pl operator -am package"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(MISSING).hasMessageContaining("mvn -pl operator -am package")
                .hasMessageContaining(BuildOutput.REQUIRE_ENV + "=true");
    }

    @Test
    void aMissingOutputSkipsOtherwise() {
        assertThatThrownBy(() -> BuildOutput.require(null, MISSING, "mvn -pl operator -am package"))
                .isInstanceOf(TestAbortedException.class).hasMessageContaining(MISSING);
    }

    @Test
    void aPresentOutputIsReturned() {
        assertThat(BuildOutput.require("true", "charts/pom.xml", "-")).isEqualTo(RepoFiles.root().resolve("charts/pom.xml"));
    }
}
