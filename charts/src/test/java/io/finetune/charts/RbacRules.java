package io.finetune.charts;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Flattens the rules of a Role/ClusterRole into "group/resource" -> verbs, so a test compares them as a whole. */
final class RbacRules {
    /**
     * What the operator needs in each namespace it watches, and nothing more (issue 5 "Reconcile"). Leases are separate:
     * they live in the release namespace only.
     */
    static final Map<String, Set<String>> OPERATOR = Map.ofEntries(
            Map.entry("finetune.io/finetunejobs", Set.of("get", "list", "watch")),
            Map.entry("finetune.io/finetunejobs/status", Set.of("get", "patch")),
            Map.entry("finetune.io/finetunejobs/finalizers", Set.of("update")),
            Map.entry("batch/jobs", Set.of("get", "list", "watch", "create", "patch")),
            // patch: a gang's rank annotations; evictions (never deletes) end a broken gang attempt's pods
            Map.entry("/pods", Set.of("get", "list", "watch", "patch")),
            Map.entry("/pods/eviction", Set.of("create")),
            Map.entry("/configmaps", Set.of("get", "create", "update")),
            // create only: a 409 says "exists" (the operator never reads them back)
            Map.entry("/serviceaccounts", Set.of("create")),
            Map.entry("rbac.authorization.k8s.io/roles", Set.of("create")),
            Map.entry("rbac.authorization.k8s.io/rolebindings", Set.of("create")),
            Map.entry("/events", Set.of("create")),
            // preflight: the nvidia.com/gpu.memory label of the nodes a job may use (refused, and noted, in a namespaced install)
            Map.entry("/nodes", Set.of("list")));

    // patch: fabric8's LeaderElector renews the lease with PATCH; without it the leader loses the lease and stops reconciling.
    static final Map<String, Set<String>> LEADER_ELECTION = Map.of("coordination.k8s.io/leases", Set.of("get", "create", "update", "patch"));

    private RbacRules() {
    }

    static Map<String, Set<String>> of(JsonNode role) {
        Map<String, Set<String>> flat = new TreeMap<>();
        for (JsonNode rule : role.path("rules")) {
            if (rule.has("resourceNames") || rule.has("nonResourceURLs")) {
                throw new AssertionError("unexpected rule shape in " + role.path("metadata").path("name") + ": " + rule);
            }
            for (JsonNode group : rule.path("apiGroups")) {
                for (JsonNode resource : rule.path("resources")) {
                    Set<String> verbs = flat.computeIfAbsent(group.asText() + "/" + resource.asText(), k -> new TreeSet<>());
                    rule.path("verbs").forEach(v -> verbs.add(v.asText()));
                }
            }
        }
        return flat;
    }
}
