package io.finetune.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** The operator Deployment, Service and ServiceMonitor as rendered by Helm from each value set. */
class ChartDeploymentTest {
    @Test
    void podPassesTheRestrictedPodSecurityProfile() {
        Rendered r = HelmChart.render(null);
        JsonNode pod = r.one("Deployment").at("/spec/template/spec");
        assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.at("/securityContext/runAsUser").asInt()).as("non-root uid").isPositive();
        assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
        assertThat(pod.has("hostNetwork") || pod.has("hostPID") || pod.has("hostIPC")).isFalse();

        JsonNode c = r.operatorContainer();
        assertThat(c.at("/securityContext/allowPrivilegeEscalation").isBoolean()).isTrue();
        assertThat(c.at("/securityContext/allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(c.at("/securityContext/privileged").asBoolean(false)).isFalse();
        assertThat(c.at("/securityContext/capabilities/drop").toString()).isEqualTo("[\"ALL\"]");
        assertThat(c.at("/securityContext/capabilities/add").isMissingNode()).isTrue();
        assertThat(c.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
        // With a read-only root, /tmp must be a writable emptyDir (the JVM and Vert.x write there).
        assertThat(c.at("/volumeMounts/0/mountPath").asText()).isEqualTo("/tmp");
        String volume = c.at("/volumeMounts/0/name").asText();
        assertThat(pod.at("/volumes/0/name").asText()).isEqualTo(volume);
        assertThat(pod.at("/volumes/0/emptyDir").isObject()).isTrue();
    }

    @Test
    void operatorRunsTheQuarkusJarWithHealthProbesAndResources() {
        Rendered r = HelmChart.render(null);
        JsonNode c = r.operatorContainer();
        assertThat(c.path("image").asText()).isEqualTo("finetune/finetune-operator:0.1.0");
        assertThat(c.path("command").toString()).isEqualTo("[\"java\",\"-jar\",\"/deployments/quarkus-run.jar\"]");
        assertThat(c.at("/ports/0/containerPort").asInt()).isEqualTo(8080);
        String portName = c.at("/ports/0/name").asText();
        assertThat(c.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
        assertThat(c.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/q/health/ready");
        assertThat(c.at("/startupProbe/httpGet/path").asText()).isEqualTo("/q/health/started");
        for (String probe : new String[] {"livenessProbe", "readinessProbe", "startupProbe"}) {
            assertThat(c.at("/" + probe + "/httpGet/port").asText()).as(probe + " port").isEqualTo(portName);
        }
        assertThat(c.at("/resources/requests/cpu").asText()).isNotEmpty();
        assertThat(c.at("/resources/requests/memory").asText()).isNotEmpty();
        assertThat(c.at("/resources/limits/memory").asText()).isNotEmpty();
        assertThat(r.one("Deployment").at("/spec/template/spec/serviceAccountName").asText())
                .isEqualTo(r.one("ServiceAccount").at("/metadata/name").asText());
        // Defaults handed to FineTuneJobs that leave them out.
        assertThat(r.env("FINETUNE_OPERATOR_TRAINER_IMAGE")).contains("finetune/finetune-trainer:0.1.0");
        assertThat(r.env("FINETUNE_OPERATOR_DEFAULT_CPU")).contains("4");
        assertThat(r.env("FINETUNE_OPERATOR_DEFAULT_MEMORY")).contains("32Gi");
        assertThat(r.env("FINETUNE_OPERATOR_SCRATCH_SIZE_LIMIT")).as("empty value: not set").isEmpty();
        assertThat(r.env("QUARKUS_PROFILE")).as("prod profile: leader election on").isEmpty();
    }

    @Test
    void customImagesAndJobDefaultsReachTheOperator() {
        Rendered r = HelmChart.render("custom-images");
        JsonNode c = r.operatorContainer();
        assertThat(c.path("image").asText()).isEqualTo("registry.example.com/ml/finetune-operator:1.2.3");
        assertThat(c.path("imagePullPolicy").asText()).isEqualTo("Always");
        assertThat(r.one("Deployment").at("/spec/template/spec/imagePullSecrets/0/name").asText()).isEqualTo("registry-creds");
        assertThat(r.env("FINETUNE_OPERATOR_TRAINER_IMAGE")).contains("registry.example.com/ml/finetune-trainer:1.2.3-cpu");
        assertThat(r.env("FINETUNE_OPERATOR_IMAGE_PULL_POLICY")).contains("Always");
        assertThat(r.env("FINETUNE_OPERATOR_DEFAULT_CPU")).contains("8");
        assertThat(r.env("FINETUNE_OPERATOR_DEFAULT_MEMORY")).contains("64Gi");
        assertThat(r.env("FINETUNE_OPERATOR_SCRATCH_SIZE_LIMIT")).contains("200Gi");
    }

    @Test
    void leaderElectionAllowsReplicasAndItsAbsenceForbidsThem() {
        assertThat(HelmChart.render("ha").one("Deployment").at("/spec/replicas").asInt()).isEqualTo(2);
        Rendered off = HelmChart.render("leader-election-off");
        assertThat(off.env("QUARKUS_PROFILE")).as("leaving the prod profile turns leader election off").isPresent();
        assertThatThrownBy(() -> HelmChart.render("two-replicas-without-leader"))
                .hasMessageContaining("replicaCount > 1 needs leaderElection.enabled=true");
    }

    @Test
    void serviceMonitorIsOptionalAndScrapesTheMetricsEndpoint() {
        assertThat(HelmChart.render(null).ofKind("ServiceMonitor")).isEmpty();
        Rendered r = HelmChart.render("service-monitor");
        JsonNode sm = r.one("ServiceMonitor");
        JsonNode service = r.one("Service");
        assertThat(sm.at("/metadata/labels/release").asText()).isEqualTo("prometheus");
        sm.at("/spec/selector/matchLabels").fields().forEachRemaining(e ->
                assertThat(service.path("metadata").path("labels").path(e.getKey()).asText()).as("Service label " + e.getKey())
                        .isEqualTo(e.getValue().asText()));
        assertThat(sm.at("/spec/endpoints/0/port").asText()).isEqualTo(service.at("/spec/ports/0/name").asText());
        assertThat(sm.at("/spec/endpoints/0/path").asText()).isEqualTo("/q/metrics");
        assertThat(sm.at("/spec/endpoints/0/interval").asText()).isEqualTo("15s");
        // The Service must reach the operator pods.
        JsonNode podLabels = r.one("Deployment").at("/spec/template/metadata/labels");
        service.at("/spec/selector").fields().forEachRemaining(e ->
                assertThat(podLabels.path(e.getKey()).asText()).isEqualTo(e.getValue().asText()));
    }

    @Test
    void valuesSchemaRejectsTyposBadNamesAndBadQuantities() {
        assertThatThrownBy(() -> HelmChart.render("typo")).hasMessageContaining("watchNamespace");
        assertThatThrownBy(() -> HelmChart.render("bad-namespace")).hasMessageContaining("watchNamespaces");
        assertThatThrownBy(() -> HelmChart.render("bad-quantity")).hasMessageContaining("memory");
    }
}
