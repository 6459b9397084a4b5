package io.finetune.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;

/** Names the spec fields (one level below spec, and inside objects) that differ between two specs, suspend excluded. */
final class SpecDiff {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SpecDiff() {
    }

    static List<String> changedFields(FineTuneJobSpec before, FineTuneJobSpec after) {
        List<String> out = new ArrayList<>();
        diff("spec", JSON.valueToTree(before), JSON.valueToTree(after), out, 0);
        out.remove("spec.suspend");
        return out;
    }

    private static void diff(String path, JsonNode a, JsonNode b, List<String> out, int depth) {
        if (a != null && a.equals(b)) {
            return;
        }
        if (a == null || b == null || !a.isObject() || !b.isObject() || depth >= 2) {
            out.add(path);
            return;
        }
        TreeSet<String> names = new TreeSet<>();
        a.fieldNames().forEachRemaining(names::add);
        b.fieldNames().forEachRemaining(names::add);
        for (Iterator<String> it = names.iterator(); it.hasNext(); ) {
            String n = it.next();
            diff(path + "." + n, a.get(n), b.get(n), out, depth + 1);
        }
    }
}
