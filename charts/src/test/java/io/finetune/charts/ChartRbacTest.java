package io.finetune.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The operator's RBAC as rendered by Helm: exactly the rules it needs, cluster-wide or per watched namespace. */
class ChartRbacTest {
    private static final String FULLNAME = "ft-finetune-operator";

    @Test
    void watchingAllNamespacesGrantsOneClusterRoleWithExactlyTheOperatorsRules() {
        Rendered r = HelmChart.render(null);
        JsonNode clusterRole = r.one("ClusterRole");
        assertThat(RbacRules.of(clusterRole)).isEqualTo(RbacRules.OPERATOR);

        JsonNode binding = r.one("ClusterRoleBinding");
        assertThat(binding.at("/roleRef/name").asText()).isEqualTo(FULLNAME);
        assertThat(binding.at("/subjects/0/kind").asText()).isEqualTo("ServiceAccount");
        assertThat(binding.at("/subjects/0/name").asText()).isEqualTo(r.one("ServiceAccount").at("/metadata/name").asText());
        assertThat(binding.at("/subjects/0/namespace").asText()).isEqualTo(HelmChart.NAMESPACE);

        assertThat(r.env("QUARKUS_OPERATOR_SDK_NAMESPACES")).as("no namespace list: the operator watches all").isEmpty();
        // Only the leader-election Role exists besides the ClusterRole, in the release namespace, for Leases only.
        assertThat(r.ofKind("Role")).singleElement().satisfies(role -> {
            assertThat(role.at("/metadata/namespace").asText()).isEqualTo(HelmChart.NAMESPACE);
            assertThat(RbacRules.of(role)).isEqualTo(RbacRules.LEADER_ELECTION);
        });
    }

    @Test
    void watchingANamespaceListGrantsRolesOnlyThereAndNothingClusterWide() {
        Rendered r = HelmChart.render("namespaced");
        assertThat(r.ofKind("ClusterRole")).isEmpty();
        assertThat(r.ofKind("ClusterRoleBinding")).isEmpty();
        for (String ns : List.of("team-a", "team-b")) {
            JsonNode role = r.ofKind("Role").stream()
                    .filter(o -> o.at("/metadata/namespace").asText().equals(ns)).findFirst().orElseThrow();
            assertThat(RbacRules.of(role)).as("Role in " + ns).isEqualTo(RbacRules.OPERATOR);
            JsonNode binding = r.ofKind("RoleBinding").stream()
                    .filter(o -> o.at("/metadata/namespace").asText().equals(ns)).findFirst().orElseThrow();
            assertThat(binding.at("/roleRef/kind").asText()).isEqualTo("Role");
            assertThat(binding.at("/roleRef/name").asText()).isEqualTo(role.at("/metadata/name").asText());
            assertThat(binding.at("/subjects/0/namespace").asText()).as("the operator's SA lives in the release namespace")
                    .isEqualTo(HelmChart.NAMESPACE);
        }
        assertThat(r.ofKind("Role")).as("team-a, team-b + leader election").hasSize(3);
        assertThat(r.env("QUARKUS_OPERATOR_SDK_NAMESPACES")).contains("team-a,team-b");
    }

    @Test
    void noValueSetGrantsSecretsWildcardsOrEscalation() {
        for (String values : new String[] {null, "namespaced", "ha", "leader-election-off", "service-monitor", "custom-images"}) {
            Rendered r = HelmChart.render(values);
            for (JsonNode role : r.objects()) {
                if (!role.path("kind").asText().endsWith("Role")) {
                    continue;
                }
                String where = values + ": " + role.path("kind").asText() + " " + role.at("/metadata/name").asText();
                RbacRules.of(role).forEach((resource, verbs) -> {
                    assertThat(resource).as(where).doesNotContain("secrets").doesNotContain("*");
                    assertThat(verbs).as(where + " " + resource).doesNotContain("*", "escalate", "bind", "impersonate", "delete");
                });
            }
            for (JsonNode binding : r.objects()) {
                assertThat(binding.at("/roleRef/name").asText()).as(values + ": binds no built-in role")
                        .isNotIn("cluster-admin", "admin", "edit", "view");
            }
        }
    }

    @Test
    void leaderElectionOffDropsTheLeaseRole() {
        Rendered r = HelmChart.render("leader-election-off");
        assertThat(r.ofKind("Role")).isEmpty();
        assertThat(r.ofKind("RoleBinding")).isEmpty();
        assertThat(RbacRules.of(r.one("ClusterRole"))).doesNotContainKey("coordination.k8s.io/leases");
    }
}
