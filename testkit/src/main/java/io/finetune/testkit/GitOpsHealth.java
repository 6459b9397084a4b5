package io.finetune.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.Map;

/**
 * How GitOps tools judge a FineTuneJob, for the operator's and the end-to-end tests alike: Argo CD runs the Lua health
 * check we ship (examples/gitops/argocd-cm-health.yaml) with the object as the global {@code obj} (run here with luaj);
 * Flux and kpt use kstatus, whose generic rules for a custom resource are ported here (sigs.k8s.io/cli-utils
 * pkg/kstatus/status/generic.go, checkGenericProperties, in its order: a deletionTimestamp means Terminating; then
 * observedGeneration against metadata.generation (when the object has a generation); then the Reconciling and Stalled
 * conditions; otherwise Current, as status.go's Compute says for a type without specific rules).
 */
public final class GitOpsHealth {
    /** The argocd-cm key of the health check. */
    public static final String ARGO_KEY = "resource.customizations.health.finetune.io_FineTuneJob";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Argo CD's health of one object: Healthy, Progressing, Degraded or Suspended, and its message. */
    public record Argo(String status, String message) {
    }

    private GitOpsHealth() {
    }

    /** The Lua script as shipped in the argocd-cm snippet. */
    public static String argoScript() throws IOException {
        ConfigMap cm = Serialization.unmarshal(Files.readString(RepoRoot.find().resolve("examples/gitops/argocd-cm-health.yaml")),
                ConfigMap.class);
        return cm.getData().get(ARGO_KEY);
    }

    /** Runs the shipped health check on {@code resource} (any object Jackson serialises as the FineTuneJob's JSON). */
    public static Argo argo(Object resource) throws IOException {
        Globals globals = JsePlatform.standardGlobals();
        globals.set("obj", toLua(JSON.valueToTree(resource)));
        LuaValue hs = globals.load(argoScript(), "health.lua").call();
        return new Argo(hs.get("status").tojstring(), hs.get("message").isnil() ? null : hs.get("message").tojstring());
    }

    /** kstatus's status of a resource it has no specific rules for: Terminating, InProgress, Failed or Current. */
    public static String kstatus(Object resource) {
        JsonNode o = JSON.valueToTree(resource);
        if (!o.at("/metadata/deletionTimestamp").asText("").isEmpty()) {
            return "Terminating"; // "Resource scheduled for deletion", before any other rule
        }
        JsonNode generation = o.at("/metadata/generation");
        JsonNode observed = o.at("/status/observedGeneration");
        if (generation.isNumber() && observed.isNumber() && observed.asLong() != generation.asLong()) {
            return "InProgress";
        }
        for (JsonNode c : o.at("/status/conditions")) {
            if ("Reconciling".equals(c.path("type").asText()) && "True".equals(c.path("status").asText())) {
                return "InProgress";
            }
            if ("Stalled".equals(c.path("type").asText()) && "True".equals(c.path("status").asText())) {
                return "Failed";
            }
        }
        return "Current";
    }

    /** JSON as Argo CD hands it to Lua: objects and arrays become tables (arrays 1-based), numbers stay numbers. */
    static LuaValue toLua(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return LuaValue.NIL;
        }
        if (n.isObject()) {
            LuaTable t = new LuaTable();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                t.set(e.getKey(), toLua(e.getValue()));
            }
            return t;
        }
        if (n.isArray()) {
            LuaTable t = new LuaTable();
            for (int i = 0; i < n.size(); i++) {
                t.set(i + 1, toLua(n.get(i)));
            }
            return t;
        }
        if (n.isBoolean()) {
            return LuaValue.valueOf(n.asBoolean());
        }
        return n.isNumber() ? LuaValue.valueOf(n.asDouble()) : LuaValue.valueOf(n.asText());
    }
}
