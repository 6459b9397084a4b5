package io.finetune.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Phase;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The packaged wiring: Quarkus boots the operator against the CRUD mock API server, the informers see a new
 * FineTuneJob, the Job appears without anyone calling reconcile, and health and Prometheus metrics are served.
 */
@QuarkusTest
@WithKubernetesTestServer
class OperatorAppTest {
    @Inject
    KubernetesClient client;

    @Inject
    io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration leaderElection;

    @Test
    void leaderElectionIsConfiguredFromProperties() {
        assertThat(leaderElection.getLeaseName()).isEqualTo("finetune-operator-lease");
        assertThat(leaderElection.getLeaseDuration()).isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void runningOperatorReconcilesAndServesHealthAndMetrics() {
        FineTuneJob ftj = TestJobs.lora("wired");
        ftj.getMetadata().setUid(null);
        client.resource(ftj).create();

        Job job = await(() -> client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).withName("wired-trainer").get());
        assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                .isEqualTo("finetune/finetune-trainer:0.1.0");
        FineTuneJob reconciled = await(() -> {
            FineTuneJob f = client.resources(FineTuneJob.class).inNamespace(TestJobs.NAMESPACE).withName("wired").get();
            return f.getStatus() != null && f.getStatus().phase == Phase.Pending ? f : null;
        });
        assertThat(reconciled.getStatus().observedGeneration).isNotNull();

        given().get("/q/health/ready").then().statusCode(200).body(containsString("UP"));
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("finetune_reconciles_total"))
                .body(containsString("finetune_reconcile_errors_total"))
                .body(containsString("finetune_jobs{phase=\"Pending\"} 1.0"))
                .body(containsString("finetune_jobs_created_total 1.0"));
    }

    private static <T> T await(Supplier<T> probe) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (Instant.now().isBefore(deadline)) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("condition not met within 30 s");
    }
}
