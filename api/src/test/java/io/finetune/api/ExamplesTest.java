package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every manifest users copy from examples/ must parse with the API types and pass the CRD schema. */
class ExamplesTest {
    @TestFactory
    Stream<DynamicTest> everyExampleIsValid() throws Exception {
        SchemaValidator validator = new SchemaValidator();
        List<Path> files;
        try (Stream<Path> s = Files.walk(RepoFiles.root().resolve("examples"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        }
        assertThat(files).as("examples/ holds manifests").isNotEmpty();
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : files) {
            tests.add(DynamicTest.dynamicTest(RepoFiles.root().relativize(file).toString(), () -> checkFile(validator, file)));
        }
        return tests.stream();
    }

    private static void checkFile(SchemaValidator validator, Path file) throws Exception {
        int fineTuneJobs = 0;
        try (MappingIterator<JsonNode> docs = Crds.YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || doc.isNull() || doc.isEmpty()) {
                    continue;
                }
                assertThat(doc.path("apiVersion").asText()).as(file + ": apiVersion").isNotEmpty();
                assertThat(doc.path("kind").asText()).as(file + ": kind").isNotEmpty();
                if ("FineTuneJob".equals(doc.path("kind").asText())) {
                    fineTuneJobs++;
                    assertThat(validator.validate(doc)).as(file + ": schema violations").isEmpty();
                    FineTuneJobManifest.parse(Crds.YAML.writeValueAsString(doc), file.toString());
                }
            }
        }
        if (file.getParent().getFileName().toString().equals("examples")) {
            assertThat(fineTuneJobs).as(file + " holds a FineTuneJob").isPositive();
        }
    }
}
