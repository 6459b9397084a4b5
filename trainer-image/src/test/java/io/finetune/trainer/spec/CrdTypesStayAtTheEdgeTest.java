package io.finetune.trainer.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The trainer's inside reads the resolved {@link RunSpec}, never the CRD's classes: only the manifest reader (spec/), the
 * pod's contract code (pod/, preflight/ whose verdict is the preflight pod's contract) import io.finetune.api.v1alpha1
 * types other than the shared value vocabulary (the enums, and the targetModules matching rule the validator shares).
 */
class CrdTypesStayAtTheEdgeTest {
    private static final Path SOURCES = Path.of("src/main/java/io/finetune/trainer");
    private static final Set<String> CONTRACT_PACKAGES = Set.of("spec", "pod", "preflight");
    private static final Set<String> VOCABULARY = Set.of("MethodType", "Precision", "SchedulerType", "LoraInit",
            "DatasetFormat", "RecordPolicy", "TargetModules", "ComputeDtype", "QuantizationType");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import io\\.finetune\\.api\\.v1alpha1\\.(\\w+);");

    @Test
    void onlyTheReaderAndThePodsContractCodeImportCrdClasses() throws IOException {
        assertThat(SOURCES).as("run from trainer-image/").isDirectory();
        List<String> offenders;
        try (Stream<Path> files = Files.walk(SOURCES)) {
            offenders = files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !CONTRACT_PACKAGES.contains(SOURCES.relativize(f).getName(0).toString()))
                    .flatMap(f -> {
                        try {
                            Matcher m = IMPORT.matcher(Files.readString(f));
                            List<String> hits = new java.util.ArrayList<>();
                            while (m.find()) {
                                if (!VOCABULARY.contains(m.group(1))) {
                                    hits.add(SOURCES.relativize(f) + " imports " + m.group(1));
                                }
                            }
                            return hits.stream();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).toList();
        }
        assertThat(offenders).as("CRD classes outside spec/, pod/ and preflight/ (read RunSpec instead)").isEmpty();
    }
}
