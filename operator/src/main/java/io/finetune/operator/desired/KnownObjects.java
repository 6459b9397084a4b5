package io.finetune.operator.desired;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this operator process has already created or found (the per-job ConfigMap as last written, the per-job RBAC), so
 * that a pass does not ask the API server again about objects known to exist: without it every pass of a running job
 * would issue three create-if-absent requests for its ServiceAccount, Role and RoleBinding. Lost on restart (the first
 * pass then creates, and a 409 says "exists"); bounded (least recently used first out) so that deleted FineTuneJobs do
 * not accumulate. An object deleted by hand behind the operator's back is recreated after a restart, not at the next pass.
 */
final class KnownObjects {
    private static final int MAX = 50_000;

    private final Map<String, Boolean> known = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > MAX;
        }
    });

    boolean contains(String key) {
        return known.get(key) != null;
    }

    void add(String key) {
        known.put(key, Boolean.TRUE);
    }
}
