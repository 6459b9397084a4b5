package io.finetune.charts;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Offline schema checks for Kubernetes manifests that are not FineTuneJobs (the api module checks those against the CRD).
 * Two layers: (1) a JSON schema per apiVersion/kind under src/test/resources/schemas/ (required fields, enums, shapes; written
 * from the Kubernetes, Kueue, Argo CD and Prometheus Operator API references, since no official schema is reachable offline);
 * (2) for kinds in the fabric8 model, the document is read into the typed object and any field the model does not know
 * (a typo such as `spec.hardd`) or any malformed quantity is reported.
 */
final class ManifestChecks {
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);

    private ManifestChecks() {
    }

    /** schemas/ file for a document: "rbac.authorization.k8s.io/v1" + "RoleBinding" -> rbac.authorization.k8s.io_v1_RoleBinding.json. */
    static Path schemaFile(JsonNode doc) {
        String name = doc.path("apiVersion").asText().replace('/', '_') + "_" + doc.path("kind").asText() + ".json";
        return RepoFiles.root().resolve("charts/src/test/resources/schemas").resolve(name);
    }

    /** Every problem found in one document; empty when it is valid. */
    static List<String> problems(JsonNode doc) throws IOException {
        List<String> problems = new ArrayList<>();
        String kind = doc.path("apiVersion").asText() + " " + doc.path("kind").asText();
        Path schemaFile = schemaFile(doc);
        if (!Files.exists(schemaFile)) {
            problems.add("no schema for " + kind + " (add " + RepoFiles.root().relativize(schemaFile) + ")");
        } else {
            JsonSchema schema = SCHEMAS.getSchema(HelmChart.YAML.readTree(schemaFile.toFile()));
            for (ValidationMessage m : schema.validate(doc)) {
                problems.add(m.getMessage());
            }
        }
        KubernetesResource typed = SERIALIZATION.unmarshal(HelmChart.YAML.writeValueAsString(doc));
        if (!(typed instanceof GenericKubernetesResource)) {
            walk(typed, "$", problems);
        }
        return problems;
    }

    /** Reports unknown fields (fabric8 keeps them in additionalProperties) and unparsable quantities, recursively. */
    private static void walk(Object value, String path, List<String> problems) {
        if (value == null) {
            return;
        }
        if (value instanceof Quantity q) {
            try {
                Quantity.getAmountInBytes(q);
            } catch (RuntimeException e) {
                problems.add(path + ": '" + q + "' is not a Kubernetes quantity");
            }
            return;
        }
        if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), path + "[" + i + "]", problems);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, problems));
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Class<?> c = value.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                f.setAccessible(true);
                Object fieldValue;
                try {
                    fieldValue = f.get(value);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
                if (f.getName().equals("additionalProperties")) {
                    if (fieldValue instanceof Map<?, ?> extra && !extra.isEmpty()) {
                        problems.add(path + ": unknown field(s) " + extra.keySet());
                    }
                } else if (f.isAnnotationPresent(JsonProperty.class)) {
                    walk(fieldValue, path + "." + f.getAnnotation(JsonProperty.class).value(), problems);
                }
            }
        }
    }
}
