package io.finetune.charts;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;

/** The objects one `helm template` produced, with look-ups by kind. */
record Rendered(List<JsonNode> objects) {
    List<JsonNode> ofKind(String kind) {
        return objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
    }

    Optional<JsonNode> find(String kind, String name) {
        return ofKind(kind).stream().filter(o -> name.equals(o.path("metadata").path("name").asText())).findFirst();
    }

    JsonNode one(String kind) {
        List<JsonNode> all = ofKind(kind);
        if (all.size() != 1) {
            throw new AssertionError("expected exactly one " + kind + ", got " + all.size());
        }
        return all.get(0);
    }

    JsonNode operatorContainer() {
        return one("Deployment").path("spec").path("template").path("spec").path("containers").get(0);
    }

    /** Value of an env var of the operator container, empty when it is not set. */
    Optional<String> env(String name) {
        for (JsonNode e : operatorContainer().path("env")) {
            if (name.equals(e.path("name").asText())) {
                return Optional.of(e.path("value").asText());
            }
        }
        return Optional.empty();
    }
}
