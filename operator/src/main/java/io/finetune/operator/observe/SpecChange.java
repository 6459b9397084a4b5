package io.finetune.operator.observe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import org.jboss.logging.Logger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Spec-change detection in one place. The training Job carries the sha256 of the spec it was built from ({@link #ANNOTATION},
 * {@code suspend} left out: the only field that may change after the Job exists); a later pass compares it with the live
 * spec and, when they differ, names the changed fields by comparing with the spec recorded in the job's ConfigMap.
 */
public final class SpecChange {
    /** sha256 of the spec (suspend excluded) the Job was built from: later spec edits are detected and ignored. */
    public static final String ANNOTATION = "finetune.io/spec-hash";

    private static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = Logger.getLogger(SpecChange.class);

    private SpecChange() {
    }

    /** sha256 of {@code spec} in canonical JSON with {@code suspend} left out. */
    public static String hash(FineTuneJobSpec spec) {
        try {
            ObjectNode tree = CANONICAL.valueToTree(spec);
            tree.remove("suspend");
            byte[] json = CANONICAL.writeValueAsString(tree).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
        } catch (NoSuchAlgorithmException | JsonProcessingException e) {
            throw new IllegalStateException("cannot hash spec", e);
        }
    }

    /**
     * Why the spec of the live FineTuneJob is not the one {@code job} was built from, or null when it is (or the Job
     * carries no hash).
     *
     * @param recorded the FineTuneJob the Job was built from (the job's ConfigMap); it may throw or return null when that
     *                 cannot be read, and the message then names no fields
     */
    public static String describe(FineTuneJobSpec live, Job job, Supplier<FineTuneJob> recorded) {
        String built = job.getMetadata().getAnnotations() == null ? null : job.getMetadata().getAnnotations().get(ANNOTATION);
        if (built == null) {
            return null;
        }
        if (live == null) {
            return "the spec was removed after Job " + job.getMetadata().getName() + " was created; the change is ignored";
        }
        if (built.equals(hash(live))) {
            return null;
        }
        return "the spec changed after Job " + job.getMetadata().getName() + " was created" + changedFields(live, recorded)
                + "; the change is ignored (only spec.suspend may change): delete and recreate the FineTuneJob to apply it";
    }

    /** " (spec.x, spec.y)" by comparing with the recorded spec, or "" when it cannot be read. */
    private static String changedFields(FineTuneJobSpec live, Supplier<FineTuneJob> recorded) {
        try {
            FineTuneJob original = recorded.get();
            if (original == null) {
                return "";
            }
            List<String> changed = changedFields(original.getSpec(), live);
            return changed.isEmpty() ? "" : " (" + String.join(", ", changed) + ")";
        } catch (RuntimeException e) {
            LOG.debugf("cannot diff the spec with the recorded one: %s", e.getMessage());
            return "";
        }
    }

    /** The spec fields (one level below spec, and inside objects) that differ between two specs, suspend excluded. */
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
        for (String n : names) {
            diff(path + "." + n, a.get(n), b.get(n), out, depth + 1);
        }
    }
}
