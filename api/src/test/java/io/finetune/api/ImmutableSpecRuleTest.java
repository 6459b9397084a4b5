package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The committed CRD makes every spec field immutable on CEL-capable servers, except spec.suspend (suspend/resume). */
class ImmutableSpecRuleTest {
    @Test
    void everySpecFieldButSuspendHasTheTransitionRule() throws IOException {
        JsonNode spec = Crds.schema(Crds.load(RepoFiles.committedCrd())).path("properties").path("spec").path("properties");
        List<String> fields = new ArrayList<>();
        spec.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).contains("model", "suspend", "training");

        for (String field : fields) {
            boolean immutable = false;
            for (JsonNode rule : spec.path(field).path("x-kubernetes-validations")) {
                immutable |= "self == oldSelf".equals(rule.path("rule").asText());
            }
            assertThat(immutable).as("spec." + field + " immutable").isEqualTo(!field.equals("suspend"));
        }
    }
}
