package io.finetune.charts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Renders the chart with the real Helm engine (helm-java: Helm's Go library over JNA), as `helm template` would. */
final class HelmChart {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final String RELEASE = "ft";
    static final String NAMESPACE = "finetune-system";

    private HelmChart() {
    }

    /** `helm template ft charts/finetune-operator -n finetune-system --include-crds [-f values/<name>.yaml]`. */
    static Rendered render(String valuesName) {
        var template = new Helm(RepoFiles.chart()).template().withName(RELEASE).withNamespace(NAMESPACE);
        if (valuesName != null) {
            template = template.withValuesFile(valuesFile(valuesName));
        }
        return new Rendered(parse(template.call()));
    }

    /** `helm lint --strict` with the chart's own values.yaml. */
    static LintResult lint() {
        return new Helm(RepoFiles.chart()).lint().strict().call();
    }

    static Path valuesFile(String name) {
        return RepoFiles.root().resolve("charts/src/test/resources/values/" + name + ".yaml");
    }

    static List<JsonNode> parse(String manifests) {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(manifests)) {
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isEmpty()) {
                    docs.add(doc);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("helm rendered invalid YAML:\n" + manifests, e);
        }
        return docs;
    }
}
