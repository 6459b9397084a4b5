package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.finetune.api.FineTuneJobManifest.InvalidManifestException;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Bad specs are rejected, by the CRD schema where it can say so and always by the shared validator, naming the field. */
class BadInputTest {
    private static final String VALID = """
            apiVersion: finetune.io/v1alpha1
            kind: FineTuneJob
            metadata:
              name: t
            spec:
              model:
                source: file:///models/tiny
              dataset:
                source: file:///data/train.jsonl
              method:
                type: LoRA
                lora:
                  rank: 8
              output:
                destination: file:///out/t
            """;

    static List<Arguments> cases() {
        return List.of(
                Arguments.of("unknown method", (Consumer<ObjectNode>) s -> method(s).put("type", "QLoRA9"),
                        "spec.method.type", true),
                Arguments.of("rank 0", (Consumer<ObjectNode>) s -> ((ObjectNode) method(s).get("lora")).put("rank", 0),
                        "spec.method.lora.rank", true),
                Arguments.of("negative learning rate",
                        (Consumer<ObjectNode>) s -> s.putObject("training").put("learningRate", -0.001),
                        "spec.training.learningRate", true),
                Arguments.of("galore block on a LoRA job",
                        (Consumer<ObjectNode>) s -> method(s).putObject("galore").put("rank", 4),
                        "spec.method.galore", false),
                Arguments.of("unknown URI scheme",
                        (Consumer<ObjectNode>) s -> ((ObjectNode) s.get("model")).put("source", "ftp://host/model"),
                        "spec.model.source", true),
                Arguments.of("LoRAPlus without ratio", (Consumer<ObjectNode>) s -> method(s).put("type", "LoRAPlus"),
                        "spec.method.loraPlus", false),
                Arguments.of("all-linear mixed with names",
                        (Consumer<ObjectNode>) s -> ((ObjectNode) method(s).get("lora")).putArray("targetModules")
                                .add("all-linear").add("q_proj"),
                        "spec.method.lora.targetModules", false));
    }

    private static ObjectNode method(ObjectNode spec) {
        return (ObjectNode) spec.get("method");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectedNamingTheField(String name, Consumer<ObjectNode> mutate, String field, boolean schemaCatches) throws Exception {
        ObjectNode doc = (ObjectNode) Crds.YAML.readTree(VALID);
        mutate.accept((ObjectNode) doc.get("spec"));
        String yaml = Crds.YAML.writeValueAsString(doc);

        assertThatThrownBy(() -> FineTuneJobManifest.parse(yaml, "job.yaml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(field.substring(field.lastIndexOf('.') + 1));

        List<String> schemaErrors = new SchemaValidator().validate(doc);
        if (schemaCatches) {
            // The API server rejects it before the operator sees it; the message names the field path.
            assertThat(schemaErrors).as("schema errors").isNotEmpty()
                    .anySatisfy(m -> assertThat(m).contains(field.replace("spec.", "$.spec.")));
        } else {
            // Cross-field rule: only CEL (x-kubernetes-validations) and our validator can see it.
            assertThat(schemaErrors).isEmpty();
            String crd = java.nio.file.Files.readString(RepoFiles.committedCrd());
            assertThat(crd).contains("message: \"" + field);
        }
    }

    @Test
    void validManifestPasses() throws Exception {
        assertThat(FineTuneJobManifest.parse(VALID, "job.yaml").getSpec().method.loraOrDefault().rank).isEqualTo(8);
        JsonNode doc = Crds.YAML.readTree(VALID);
        assertThat(new SchemaValidator().validate(doc)).isEmpty();
    }

    @Test
    void unknownFieldNamesLineAndField() {
        String typo = VALID.replace("    lora:\n      rank: 8", "    lora:\n      rnak: 8");
        assertThatThrownBy(() -> FineTuneJobManifest.parse(typo, "job.yaml"))
                .hasMessageContaining("job.yaml:")
                .hasMessageContaining("rnak")
                .hasMessageContaining("spec.method.lora");
    }

    @Test
    void violationsListEveryProblem() {
        String bad = VALID.replace("rank: 8", "rank: 0").replace("file:///models/tiny", "gopher://x");
        assertThatThrownBy(() -> FineTuneJobManifest.parse(bad, "job.yaml"))
                .isInstanceOfSatisfying(InvalidManifestException.class, e -> assertThat(e.violations())
                        .extracting(Violation::field)
                        .containsExactlyInAnyOrder("spec.method.lora.rank", "spec.model.source"));
    }
}
