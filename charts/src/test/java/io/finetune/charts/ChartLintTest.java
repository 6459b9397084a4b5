package io.finetune.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** `helm lint`, the chart's copy of the CRD, and every rendered object against the offline schemas. */
class ChartLintTest {
    @Test
    void lintStrictPasses() {
        LintResult result = HelmChart.lint();
        assertThat(result.isFailed()).as("helm lint --strict: " + result.getMessages()).isFalse();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    /** One source of truth: the chart ships byte-for-byte the CRD the api build generates into crds/. */
    @Test
    void chartShipsTheCommittedCrd() throws Exception {
        if (Boolean.getBoolean("crds.update")) {
            Files.copy(RepoFiles.committedCrd(), RepoFiles.chartCrd(), StandardCopyOption.REPLACE_EXISTING);
        }
        assertThat(Files.readString(RepoFiles.chartCrd()))
                .as("charts/finetune-operator/crds/ is out of date: run `mvn -pl api,charts -am test -Dtest='CrdInSyncTest,ChartLintTest' "
                        + "-Dsurefire.failIfNoSpecifiedTests=false -Dcrds.update=true` and commit it")
                .isEqualTo(Files.readString(RepoFiles.committedCrd()));
        try (Stream<java.nio.file.Path> files = Files.list(RepoFiles.chart().resolve("crds"))) {
            assertThat(files.toList()).as("only the FineTuneJob CRD").hasSize(1);
        }
        // Helm itself sees it as the chart's CRD (what `helm install` applies before the templates).
        List<JsonNode> shown = HelmChart.parse(new Helm(RepoFiles.chart()).show().crds().call());
        assertThat(shown).singleElement().satisfies(crd ->
                assertThat(crd.at("/metadata/name").asText()).isEqualTo("finetunejobs.finetune.io"));
    }

    @TestFactory
    Stream<DynamicTest> everyRenderedObjectIsAValidKubernetesObject() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String values : new String[] {null, "namespaced", "ha", "leader-election-off", "service-monitor", "custom-images"}) {
            tests.add(DynamicTest.dynamicTest(values == null ? "defaults" : values, () -> {
                for (JsonNode object : HelmChart.render(values).objects()) {
                    String what = object.path("kind").asText() + " " + object.at("/metadata/name").asText();
                    assertThat(ManifestChecks.problems(object)).as(what).isEmpty();
                    if (!object.path("kind").asText().startsWith("Cluster")) {
                        assertThat(object.at("/metadata/namespace").asText()).as(what + " is namespaced").isNotEmpty();
                    }
                }
            }));
        }
        return tests.stream();
    }
}
