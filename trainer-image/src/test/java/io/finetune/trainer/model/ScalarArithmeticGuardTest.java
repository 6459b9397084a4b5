package io.finetune.trainer.model;

import io.finetune.trainer.arrays.OwnedArrays;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The model and the methods run under autograd, where DJL's arithmetic with a Java number ({@code x.mul(0.5)},
 * {@code x.div(n)}) leaves autograd holding memory that a garbage collection frees (see {@link OwnedArrays}). This guard
 * reads the compiled classes of those packages and fails on any call with the signature {@code (Number) -> NDArray}.
 */
class ScalarArithmeticGuardTest {
    private static final String NUMBER_OP = "(Ljava/lang/Number;)Lai/djl/ndarray/NDArray;";

    @Test
    void noNumberArithmeticOnTheAutogradPath() throws Exception {
        Path classes = classesRoot().resolve("io/finetune/trainer");
        List<String> offenders = new ArrayList<>();
        int scanned = 0;
        for (String pkg : List.of("model", "method", "method/lora", "method/galore", "method/full")) {
            try (Stream<Path> s = Files.list(classes.resolve(pkg))) {
                for (Path c : s.filter(p -> p.toString().endsWith(".class")).toList()) {
                    scanned++;
                    String bytes = new String(Files.readAllBytes(c), StandardCharsets.ISO_8859_1);
                    if (bytes.contains(NUMBER_OP)) {
                        offenders.add(pkg + "/" + c.getFileName());
                    }
                }
            }
        }
        assertThat(scanned).as("classes scanned").isGreaterThan(20);
        assertThat(offenders).as("use OwnedArrays.times/dividedBy/plus/minus instead of NDArray ops with a Number").isEmpty();
    }

    @Test
    void theGuardSeesSuchACall() throws Exception {
        // A deliberate x.mul(0.5) compiled by javac like the main classes: the pattern the guard looks for is really there.
        Path fixture = Path.of(NumberArithmeticFixture.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("io/finetune/trainer/model/ScalarArithmeticGuardTest$NumberArithmeticFixture.class");
        assertThat(new String(Files.readAllBytes(fixture), StandardCharsets.ISO_8859_1)).contains(NUMBER_OP);
    }

    /** The form the guard rejects on the autograd path. */
    static final class NumberArithmeticFixture {
        static ai.djl.ndarray.NDArray half(ai.djl.ndarray.NDArray x) {
            return x.mul(0.5);
        }
    }

    private static Path classesRoot() throws URISyntaxException {
        return Path.of(OwnedArrays.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
