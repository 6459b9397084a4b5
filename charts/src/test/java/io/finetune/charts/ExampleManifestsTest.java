package io.finetune.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every non-FineTuneJob manifest under examples/ (GitOps, Kueue, platform-team setup) passes the offline schema checks;
 * FineTuneJobs are checked against the CRD by the api module's ExamplesTest. The cross-reference tests catch what a schema
 * cannot: a job naming a queue that the example never creates, a binding to a role that does not exist.
 */
class ExampleManifestsTest {
    @TestFactory
    Stream<DynamicTest> everyExampleManifestIsValid() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : exampleFiles()) {
            tests.add(DynamicTest.dynamicTest(RepoFiles.root().relativize(file).toString(), () -> {
                List<JsonNode> docs = read(file);
                assertThat(docs).as(file + " holds manifests").isNotEmpty();
                for (JsonNode doc : docs) {
                    if (!"FineTuneJob".equals(doc.path("kind").asText())) {
                        assertThat(ManifestChecks.problems(doc)).as(file + ": " + doc.path("kind").asText() + " "
                                + doc.at("/metadata/name").asText()).isEmpty();
                    }
                }
            }));
        }
        return tests.stream();
    }

    @Test
    void schemaChecksCatchTyposAndMissingFields() throws Exception {
        JsonNode quota = HelmChart.YAML.readTree("""
                apiVersion: v1
                kind: ResourceQuota
                metadata: {name: q}
                spec:
                  hardd: {requests.nvidia.com/gpu: "4"}
                """);
        assertThat(ManifestChecks.problems(quota)).anyMatch(p -> p.contains("hard")).anyMatch(p -> p.contains("hardd"));
        JsonNode localQueue = HelmChart.YAML.readTree("""
                apiVersion: kueue.x-k8s.io/v1beta1
                kind: LocalQueue
                metadata: {name: training, namespace: a}
                spec: {clusterQueu: gpu}
                """);
        assertThat(ManifestChecks.problems(localQueue)).anyMatch(p -> p.contains("clusterQueue"));
        JsonNode limits = HelmChart.YAML.readTree("""
                apiVersion: v1
                kind: LimitRange
                metadata: {name: l}
                spec: {limits: [{type: Container, default: {memory: 4 GB}}]}
                """);
        assertThat(ManifestChecks.problems(limits)).anyMatch(p -> p.contains("4 GB"));
        JsonNode unknownKind = HelmChart.YAML.readTree("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n");
        assertThat(ManifestChecks.problems(unknownKind)).anyMatch(p -> p.contains("no schema for example.com/v1 Widget"));
    }

    @Test
    void queuedJobPointsAtTheLocalQueueTheKueueExampleCreates() throws Exception {
        List<JsonNode> docs = readAll("kueue");
        JsonNode job = only(docs, "FineTuneJob");
        JsonNode localQueue = only(docs, "LocalQueue");
        assertThat(job.at("/spec/queueName").asText()).isEqualTo(localQueue.at("/metadata/name").asText());
        assertThat(job.at("/metadata/namespace").asText()).isEqualTo(localQueue.at("/metadata/namespace").asText());
        JsonNode clusterQueue = only(docs, "ClusterQueue");
        assertThat(localQueue.at("/spec/clusterQueue").asText()).isEqualTo(clusterQueue.at("/metadata/name").asText());
        JsonNode flavor = only(docs, "ResourceFlavor");
        assertThat(clusterQueue.at("/spec/resourceGroups/0/flavors/0/name").asText()).isEqualTo(flavor.at("/metadata/name").asText());
        assertThat(clusterQueue.at("/spec/resourceGroups/0/coveredResources").toString()).contains("nvidia.com/gpu");
    }

    @Test
    void platformTeamExampleGivesTheTeamAQuotaDefaultsAndFineTuneJobRights() throws Exception {
        List<JsonNode> docs = readAll("platform-team");
        String ns = only(docs, "Namespace").at("/metadata/name").asText();
        for (JsonNode doc : docs) {
            if (!doc.path("kind").asText().equals("Namespace")) {
                assertThat(doc.at("/metadata/namespace").asText()).as(doc.path("kind").asText()).isEqualTo(ns);
            }
        }
        assertThat(only(docs, "ResourceQuota").at("/spec/hard").has("requests.nvidia.com/gpu")).isTrue();
        assertThat(only(docs, "LimitRange").at("/spec/limits/0/defaultRequest").has("cpu")).isTrue();
        JsonNode role = only(docs, "Role");
        assertThat(only(docs, "RoleBinding").at("/roleRef/name").asText()).isEqualTo(role.at("/metadata/name").asText());
        assertThat(RbacRules.of(role).get("finetune.io/finetunejobs")).contains("create", "get", "delete");
        assertThat(RbacRules.of(role).keySet()).noneMatch(r -> r.contains("secrets"));
        // The job the GitOps example deploys lands in this namespace.
        JsonNode app = only(readAll("gitops"), "Application");
        assertThat(app.at("/spec/destination/namespace").asText()).isEqualTo(ns);
    }

    private static JsonNode only(List<JsonNode> docs, String kind) {
        List<JsonNode> found = docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
        assertThat(found).as("one " + kind).hasSize(1);
        return found.get(0);
    }

    private static List<JsonNode> readAll(String folder) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (Stream<Path> s = Files.list(RepoFiles.root().resolve("examples").resolve(folder))) {
            for (Path f : s.filter(ExampleManifestsTest::isYaml).sorted().toList()) {
                docs.addAll(read(f));
            }
        }
        return docs;
    }

    private static List<Path> exampleFiles() throws Exception {
        try (Stream<Path> s = Files.walk(RepoFiles.root().resolve("examples"))) {
            return s.filter(ExampleManifestsTest::isYaml).sorted().toList();
        }
    }

    private static boolean isYaml(Path p) {
        return p.toString().endsWith(".yaml") || p.toString().endsWith(".yml");
    }

    private static List<JsonNode> read(Path file) throws Exception {
        return HelmChart.parse(Files.readString(file));
    }
}
