package io.finetune.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates docs/reference/finetunejob.md from the committed CRD's openAPIV3Schema (itself generated from the API types, so the
 * reference follows the types through the CRD). One section per object; one row per field with its type, whether it is
 * required, its default (schema `default`, else the "Default: ..." clause every description carries), its bounds / pattern /
 * enum / CEL rules, and its description. Run it through ReferenceDocsTest with -Ddocs.update=true.
 */
final class ReferenceDocs {
    private static final Pattern DEFAULT_CLAUSE = Pattern.compile("\\s*Default:\\s*(.+?)\\.?\\s*$");

    private ReferenceDocs() {
    }

    static String generate(Path crdFile) throws IOException {
        JsonNode crd = Crds.load(crdFile);
        JsonNode names = crd.path("spec").path("names");
        JsonNode version = crd.path("spec").path("versions").get(0);
        String apiVersion = crd.path("spec").path("group").asText() + "/" + version.path("name").asText();
        StringBuilder md = new StringBuilder();
        md.append("<!-- Generated from crds/").append(crdFile.getFileName()).append(" by api/src/test/java/io/finetune/api/ReferenceDocs.java.\n")
                .append("     Do not edit: regenerate with `mvn -pl api test -Dtest=ReferenceDocsTest -Ddocs.update=true`. -->\n")
                .append("# ").append(names.path("kind").asText()).append(" reference\n\n")
                .append("`apiVersion: ").append(apiVersion).append("`, `kind: ").append(names.path("kind").asText())
                .append("`, namespaced, short name `").append(names.path("shortNames").path(0).asText()).append("` (`kubectl get ")
                .append(names.path("shortNames").path(0).asText()).append("`).\n\n")
                .append("Every field below is checked by the API server against the CRD schema when a job is created; "
                        + "the operator validates what a schema cannot (URI schemes, method block vs type, targets) and reports it "
                        + "in `status.conditions` (type `Valid`). `kubectl explain ftj.spec.<field>` shows the same descriptions.\n\n")
                .append("Columns: **Required** is enforced by the schema; **Default** is what applies when the field is left out; "
                        + "**Constraints** are enforced by the API server (minimum/maximum, pattern, enum, CEL rules; CEL "
                        + "needs Kubernetes 1.25+).\n\n");
        JsonNode schema = Crds.schema(crd);
        List<Section> sections = new ArrayList<>();
        collect(schema.path("properties").path("spec"), ".spec", sections);
        collect(schema.path("properties").path("status"), ".status", sections);
        md.append("## Contents\n\n");
        for (Section s : sections) {
            md.append("- [`").append(s.path()).append("`](#").append(anchor(s.path())).append(")\n");
        }
        md.append('\n');
        for (Section s : sections) {
            md.append(s.render());
        }
        return md.toString();
    }

    /** One section per object node, depth-first in field order, so a section follows the field that introduces it. */
    private static void collect(JsonNode node, String path, List<Section> out) {
        JsonNode props = node.path("properties");
        if (props.isMissingNode() || props.isEmpty()) {
            return;
        }
        Section section = new Section(path, node);
        out.add(section);
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            var e = it.next();
            String child = path + "." + e.getKey();
            collect(e.getValue(), child, out);
            if (e.getValue().has("items")) {
                collect(e.getValue().get("items"), child + "[]", out);
            }
        }
    }

    private record Section(String path, JsonNode node) {
        String render() {
            StringBuilder md = new StringBuilder();
            md.append("## `").append(path).append("`\n\n");
            String description = node.path("description").asText("");
            if (!description.isEmpty()) {
                md.append(cell(withoutDefault(description))).append("\n\n");
            }
            List<String> rules = celRules(node);
            if (!rules.isEmpty()) {
                md.append("Rules across fields (CEL):\n\n");
                rules.forEach(r -> md.append("- ").append(r).append('\n'));
                md.append('\n');
            }
            md.append("| Field | Type | Required | Default | Constraints | Description |\n");
            md.append("|---|---|---|---|---|---|\n");
            List<String> required = new ArrayList<>();
            node.path("required").forEach(r -> required.add(r.asText()));
            for (Iterator<Map.Entry<String, JsonNode>> it = node.path("properties").fields(); it.hasNext(); ) {
                var e = it.next();
                JsonNode f = e.getValue();
                String desc = f.path("description").asText("");
                md.append("| `").append(e.getKey()).append("` | ").append(type(f))
                        .append(" | ").append(required.contains(e.getKey()) ? "yes" : "no")
                        .append(" | ").append(defaultOf(f, desc))
                        .append(" | ").append(constraints(f))
                        .append(" | ").append(cell(withoutDefault(desc))).append(" |\n");
            }
            md.append('\n');
            return md.toString();
        }
    }

    static String type(JsonNode f) {
        String t = f.path("type").asText("");
        if (t.equals("array")) {
            return "array of " + type(f.path("items"));
        }
        if (t.equals("object") && f.has("additionalProperties") && !f.has("properties")) {
            return "map of string to " + type(f.path("additionalProperties"));
        }
        if (f.has("format")) {
            return t + " (" + f.path("format").asText() + ")";
        }
        if (f.path("x-kubernetes-int-or-string").asBoolean(false)) {
            return "integer or string";
        }
        return t.isEmpty() ? "any" : t;
    }

    static String defaultOf(JsonNode f, String description) {
        if (f.has("default")) {
            return "`" + cell(f.path("default").toString()) + "`";
        }
        Matcher m = DEFAULT_CLAUSE.matcher(description);
        int at = description.lastIndexOf("Default:");
        if (at >= 0 && m.region(at - (at > 0 ? 1 : 0), description.length()).find()) {
            return cell(m.group(1));
        }
        return "";
    }

    static String constraints(JsonNode f) {
        List<String> c = new ArrayList<>();
        bound(f, "minimum", f.path("exclusiveMinimum").asBoolean(false) ? "> " : ">= ", c);
        bound(f, "maximum", f.path("exclusiveMaximum").asBoolean(false) ? "< " : "<= ", c);
        if (f.has("minLength")) {
            c.add("length >= " + f.path("minLength").asInt());
        }
        if (f.has("maxLength")) {
            c.add("length <= " + f.path("maxLength").asInt());
        }
        if (f.has("minItems")) {
            c.add("items >= " + f.path("minItems").asInt());
        }
        if (f.has("maxItems")) {
            c.add("items <= " + f.path("maxItems").asInt());
        }
        if (f.has("enum")) {
            List<String> values = new ArrayList<>();
            f.path("enum").forEach(v -> values.add("`" + v.asText() + "`"));
            c.add("one of " + String.join(", ", values));
        }
        if (f.has("pattern")) {
            c.add("pattern `" + cell(f.path("pattern").asText()) + "`");
        }
        c.addAll(celRules(f));
        return String.join("; ", c);
    }

    private static void bound(JsonNode f, String key, String op, List<String> out) {
        if (f.has(key)) {
            double v = f.path(key).asDouble();
            out.add(op + (v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v)));
        }
    }

    private static List<String> celRules(JsonNode f) {
        List<String> rules = new ArrayList<>();
        for (JsonNode r : f.path("x-kubernetes-validations")) {
            if (r.path("rule").asText().equals("self == oldSelf")) {
                rules.add("immutable once created"); // CEL transition rule; the message repeats it for each field
                continue;
            }
            rules.add("`" + cell(r.path("rule").asText()) + "` (" + cell(r.path("message").asText()) + ")");
        }
        return rules;
    }

    private static String withoutDefault(String description) {
        int at = description.lastIndexOf("Default:");
        return (at >= 0 ? description.substring(0, at) : description).trim();
    }

    /** Makes text safe inside a Markdown table cell. */
    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    /** GitHub's heading anchor: lower case, punctuation other than - and _ dropped, spaces to -. */
    static String anchor(String path) {
        return path.toLowerCase().replaceAll("[^a-z0-9 _-]", "").replace(' ', '-');
    }
}
