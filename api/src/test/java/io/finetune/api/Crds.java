package io.finetune.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.function.BiConsumer;

/** Reading the committed CRD in tests. */
final class Crds {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Crds() {
    }

    static JsonNode load(Path crd) throws IOException {
        return YAML.readTree(crd.toFile());
    }

    static JsonNode schema(JsonNode crd) {
        return crd.path("spec").path("versions").get(0).path("schema").path("openAPIV3Schema");
    }

    /** Visits every declared property below {@code node} with a path like {@code .spec.method.lora.rank}. */
    static void walkProperties(JsonNode node, String path, BiConsumer<String, JsonNode> visitor) {
        JsonNode props = node.path("properties");
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            var e = it.next();
            String p = path + "." + e.getKey();
            if (!p.equals(".metadata") && !p.equals(".apiVersion") && !p.equals(".kind")) {
                visitor.accept(p, e.getValue());
            }
            walkProperties(e.getValue(), p, visitor);
            if (e.getValue().has("items")) {
                walkProperties(e.getValue().get("items"), p + "[]", visitor);
            }
        }
    }
}
