package io.finetune.operator.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import java.util.List;

/**
 * Writes the operator-owned status fields on the status subresource: a JSON Patch (RFC 6902) with one {@code add}
 * (= set) per changed owned field and a {@code remove} per owned field the operator cleared; the very first write is
 * a JSON merge patch. {@code progress} is never touched, so the trainer's concurrent progress patches are neither
 * overwritten nor in conflict. (Merge patches throughout would do on a real API server, but the CRUD mock server
 * merges arrays such as conditions instead of replacing them.)
 */
public class StatusWriter {
    /** The fields this writer owns (everything but progress). */
    static final List<String> OWNED = List.of("phase", "observedGeneration", "conditions", "startTime", "completionTime",
            "attempts", "worldSize", "usage", "metrics", "memory", "execution", "artifact", "message", "preflight");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;

    public StatusWriter(KubernetesClient client) {
        this.client = client;
    }

    /** @param job the FineTuneJob as read (its status is what the server holds) */
    public void write(FineTuneJob job, FineTuneJobStatus status) {
        // addressed through the object: withName(..).patch(..) would GET the FineTuneJob before each patch
        var resource = client.resources(FineTuneJob.class).inNamespace(job.getMetadata().getNamespace())
                .resource(job).subresource("status");
        if (job.getStatus() == null) {
            // No status seen yet: a merge patch sets our fields without replacing a status someone else may have created.
            ObjectNode root = JSON.createObjectNode();
            root.set("status", owned(status));
            resource.patch(PatchContext.of(PatchType.JSON_MERGE), root.toString());
            return;
        }
        ArrayNode ops = ops(job.getStatus(), status);
        if (!ops.isEmpty()) {
            resource.patch(PatchContext.of(PatchType.JSON), ops.toString());
        }
    }

    /** JSON Patch operations turning the owned fields of {@code current} into those of {@code wanted}. */
    static ArrayNode ops(FineTuneJobStatus current, FineTuneJobStatus wanted) {
        ObjectNode want = owned(wanted);
        ArrayNode ops = JSON.createArrayNode();
        ObjectNode have = owned(current);
        for (String field : OWNED) {
            JsonNode w = want.get(field);
            if (w != null) {
                if (!w.equals(have.get(field))) {
                    ops.addObject().put("op", "add").put("path", "/status/" + field).set("value", w);
                }
            } else if (have.has(field)) {
                ops.addObject().put("op", "remove").put("path", "/status/" + field);
            }
        }
        return ops;
    }

    /** The owned, non-null fields as JSON. */
    private static ObjectNode owned(FineTuneJobStatus status) {
        ObjectNode full = JSON.valueToTree(status);
        ObjectNode out = JSON.createObjectNode();
        for (String field : OWNED) {
            JsonNode v = full.get(field);
            if (v != null && !v.isNull() && !(v.isArray() && v.isEmpty())) {
                out.set(field, v);
            }
        }
        return out;
    }

    /** True when the operator-owned fields differ (progress ignored). */
    public static boolean differs(FineTuneJobStatus a, FineTuneJobStatus b) {
        return !owned(a == null ? new FineTuneJobStatus() : a).equals(owned(b == null ? new FineTuneJobStatus() : b));
    }
}
