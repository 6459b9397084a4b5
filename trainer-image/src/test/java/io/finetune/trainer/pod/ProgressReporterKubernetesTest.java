package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.api.v1alpha1.Progress;
import io.finetune.testkit.RepoRoot;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The progress patch as the API server sees it: CRUD mock server with the project's CRD (status subresource). One server
 * for the class (static fields; it is the slow part); each test has its own job, so expectations do not leak.
 */
@EnableKubernetesMockClient(crud = true)
class ProgressReporterKubernetesTest {
    private static final String NS = "team-a";

    static KubernetesMockServer server;
    static KubernetesClient client;
    private static KubernetesClient reportingClient;

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private String jobName;
    private String statusPath;

    @BeforeAll
    static void installCrd() throws Exception {
        Path crd = RepoRoot.find().resolve("crds/finetunejobs.finetune.io-v1.yml");
        try (InputStream in = Files.newInputStream(crd)) {
            client.apiextensions().v1().customResourceDefinitions()
                    .resource(client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class)).create();
        }
        // Configured like the pod's client (no client-side retries), pointed at the mock server.
        reportingClient = new KubernetesClientBuilder()
                .withConfig(KubernetesStatusPatcher.reportingConfig(client.getConfiguration())).build();
    }

    @AfterAll
    static void closeReportingClient() {
        reportingClient.close();
    }

    @BeforeEach
    void createJobWithOperatorOwnedStatus(TestInfo test) throws Exception {
        jobName = test.getTestMethod().orElseThrow().getName().toLowerCase(java.util.Locale.ROOT).substring(0, 20);
        statusPath = "/apis/finetune.io/v1alpha1/namespaces/" + NS + "/finetunejobs/" + jobName + "/status";
        FineTuneJob job = new FineTuneJob();
        job.setMetadata(new ObjectMetaBuilder().withName(jobName).withNamespace(NS).build());
        job.setSpec(new FineTuneJobSpec());
        client.resource(job).create();
        FineTuneJobStatus status = new FineTuneJobStatus();
        status.phase = Phase.Running;
        status.attempts = 2;
        status.message = "training pod running";
        job.setStatus(status);
        client.resource(job).updateStatus();
        drainRecordedRequests();
    }

    @Test
    void patchesOnlyStatusProgressThroughTheStatusSubresourceAndKeepsOperatorFields() throws Exception {
        ProgressReporter reporter = new ProgressReporter(patcher(), fast(Duration.ofMillis(50)), log::add);
        reporter.report(new TrainingProgress(40, 100, 0.8, 1.25, 2e-4, 950.0, Duration.ofSeconds(250)).toProgress());
        reporter.close();
        List<RecordedRequest> requests = drainRecordedRequests();

        FineTuneJob stored = client.resources(FineTuneJob.class).inNamespace(NS).withName(jobName).get();
        assertThat(stored.getStatus().phase).as("operator-owned phase survives").isEqualTo(Phase.Running);
        assertThat(stored.getStatus().attempts).isEqualTo(2);
        assertThat(stored.getStatus().message).isEqualTo("training pod running");
        Progress p = stored.getStatus().progress;
        assertThat(p.step).isEqualTo(40L);
        assertThat(p.totalSteps).isEqualTo(100L);
        assertThat(p.summary).isEqualTo("40/100");
        assertThat(p.eta).isEqualTo("4m10s");
        assertThat(p.loss).isEqualTo(1.25);

        assertThat(requests).as("one request, no GET first (the per-job Role grants only get/patch on the status)")
                .hasSize(1);
        RecordedRequest patch = requests.get(0);
        assertThat(patch.getMethod()).isEqualTo("PATCH");
        assertThat(patch.getPath()).isEqualTo(statusPath);
        assertThat(patch.getHeader("Content-Type")).startsWith("application/merge-patch+json");
        assertThat(log).isEmpty();
    }

    @Test
    void serverErrorsAreRetriedWithTheNewestValueAndLoggedOnce() throws Exception {
        server.expect().patch().withPath(statusPath).andReturn(500, "{\"kind\":\"Status\",\"code\":500}").times(3);
        ProgressReporter reporter = new ProgressReporter(patcher(), fast(Duration.ofMillis(20)), log::add);
        for (int step = 1; step <= 30; step++) {
            reporter.report(new TrainingProgress(step, 30, step / 30.0, 2.0 - step * 0.01, 1e-4, 100, null).toProgress());
            Thread.sleep(10);
        }
        reporter.close();

        assertThat(reporter.stats().failed()).isEqualTo(3);
        FineTuneJob stored = client.resources(FineTuneJob.class).inNamespace(NS).withName(jobName).get();
        assertThat(stored.getStatus().progress.step).as("the final value arrives once the server recovers").isEqualTo(30L);
        assertThat(stored.getStatus().phase).isEqualTo(Phase.Running);
        assertThat(log).hasSize(2);
        assertThat(log.get(0)).contains("cannot report progress to FineTuneJob " + NS + "/" + jobName)
                .contains("training continues");
        assertThat(log.get(1)).contains("recovered after 3 failed attempt(s)");
    }

    @Test
    void forbiddenNeverReachesTheTrainingLoopAndIsLoggedOnce() throws Exception {
        server.expect().patch().withPath(statusPath)
                .andReturn(403, "{\"kind\":\"Status\",\"code\":403,\"reason\":\"Forbidden\",\"message\":\"forbidden\"}")
                .always();
        ProgressReporter.Settings settings = new ProgressReporter.Settings(Duration.ofMillis(20), Duration.ofMillis(10),
                Duration.ofMillis(40), Duration.ofMillis(500));
        ProgressReporter reporter = new ProgressReporter(patcher(), settings, log::add);
        long slowestReportNanos = 0;
        for (int step = 1; step <= 50; step++) {
            long t0 = System.nanoTime();
            reporter.report(new TrainingProgress(step, 50, 1, 1, 1, 1, null).toProgress());
            slowestReportNanos = Math.max(slowestReportNanos, System.nanoTime() - t0);
            Thread.sleep(5);
        }
        long t0 = System.nanoTime();
        reporter.close();
        long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(reporter.stats().failed()).as("kept retrying").isGreaterThan(3);
        assertThat(reporter.stats().patched()).isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(slowestReportNanos)).as("report() never waits on the server")
                .isLessThan(200);
        assertThat(closeMillis).as("close() gives up after closeTimeout").isLessThan(3_000);
        assertThat(log.stream().filter(l -> l.contains("cannot report progress"))).hasSize(1);
        assertThat(log.get(0)).contains("403");
        assertThat(client.resources(FineTuneJob.class).inNamespace(NS).withName(jobName).get().getStatus().progress)
                .isNull();
    }

    private StatusPatcher patcher() {
        return new KubernetesStatusPatcher(reportingClient, NS, jobName);
    }

    private static ProgressReporter.Settings fast(Duration minInterval) {
        return new ProgressReporter.Settings(minInterval, Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(10));
    }

    private List<RecordedRequest> drainRecordedRequests() throws InterruptedException {
        List<RecordedRequest> out = new ArrayList<>();
        RecordedRequest r;
        while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
            out.add(r);
        }
        return out;
    }
}
