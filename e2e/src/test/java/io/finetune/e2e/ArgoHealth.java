package io.finetune.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.Map;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/**
 * Argo CD's view of a FineTuneJob: the Lua health check shipped in examples/gitops/argocd-cm-health.yaml, run (luaj) with
 * the object as the global {@code obj}, as Argo CD runs resource.customizations.health scripts.
 */
record ArgoHealth(String status, String message) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static ArgoHealth of(FineTuneJob job) throws IOException {
        ConfigMap cm = Serialization.unmarshal(Files.readString(Repo.root().resolve("examples/gitops/argocd-cm-health.yaml")),
                ConfigMap.class);
        Globals globals = JsePlatform.standardGlobals();
        globals.set("obj", toLua(JSON.valueToTree(job)));
        LuaValue hs = globals.load(cm.getData().get("resource.customizations.health.finetune.io_FineTuneJob"), "health.lua").call();
        return new ArgoHealth(hs.get("status").tojstring(), hs.get("message").isnil() ? null : hs.get("message").tojstring());
    }

    private static LuaValue toLua(JsonNode n) {
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
