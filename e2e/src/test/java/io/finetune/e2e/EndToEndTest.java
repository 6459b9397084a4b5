package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.FakeNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole product on a real control plane: kube-apiserver + controller-manager + scheduler, the committed CRD, the
 * packaged operator as its own ServiceAccount, and one GPU node whose pods run the packaged trainer jar for real. The jobs
 * run one after another (the node has one GPU), in the order users would meet them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndTest {
    static final String NS = "ml";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;
    static OperatorCluster cluster;
    static ControlPlane kube;
    static OperatorProcess operator;
    static TrainerKubelet kubelet;
    static FakeNode node;
    static Double uninterruptedLoss;

    @BeforeAll
    static void startEverything() throws Exception {
        cluster = OperatorCluster.start(work, NS, plane -> kubelet = new TrainerKubelet(plane, work.resolve("pods")));
        kube = cluster.kube();
        operator = cluster.operator();
        node = cluster.node();
        Repo.trainerJar();
        initModelAndData();
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void showLogsOnFailure(TestInfo info) {
        // Always cheap to keep: printed by surefire only into the report of this class.
        System.out.println("== " + info.getDisplayName() + " trainer output:\n" + (kubelet == null ? "" : kubelet.logs()));
    }

    static void initModelAndData() throws Exception {
        TinyLoraJob.initModelAndData(work);
        Files.writeString(work.resolve("bad.jsonl"), "{\"prompt\": \"12=\", \"completion\": \"21\"}\n"
                + "{\"prompt\": \"34=\", \"completion\": \"43\"}\n{\"prompt\": \"56=\", \"completion\": \n");
    }

    /** A LoRA job on the tiny model; 12 steps with a checkpoint every 4. */
    static FineTuneJob submit(String name, String dataset, int backoffLimit) {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  image: finetune/finetune-trainer:e2e
                  model:
                    source: file://%s
                  dataset:
                    source: file://%s
                    format: prompt-completion
                    evalFraction: 0.125
                    maxSeqLength: 32
                  method:
                    type: LoRA
                    lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: 12, batchSize: 4, learningRate: 0.01, checkpointEverySteps: 4, logEverySteps: 1, seed: 11}
                  resources: {gpus: 1}
                  preflight: Skip   # PreflightEndToEndTest covers the preflight
                  backoffLimit: %d
                  output:
                    destination: file://%s
                """.formatted(name, NS, work.resolve("model"), work.resolve(dataset), backoffLimit, work.resolve("out").resolve(name));
        FineTuneJob job = kube.client().resources(FineTuneJob.class)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        return kube.client().resources(FineTuneJob.class).inNamespace(NS).resource(job).create();
    }

    @Test
    @Order(1)
    void loraJobGoesPendingRunningSucceededWithProgressAndAVerifiableArtifact() throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "lora-a");
             MetricsScraper metrics = new MetricsScraper(() -> kubelet.runs().values().stream()
                     .filter(r -> r.pod().name().startsWith("lora-a")).findFirst().map(r -> r.dir().resolve("trainer.log")))) {
            submit("lora-a", "train.jsonl", 2);
            FineTuneJob done = rec.await(j -> StatusRecorder.inPhase(j, Phase.Succeeded) || StatusRecorder.inPhase(j, Phase.Failed),
                    Duration.ofSeconds(150), "lora-a to finish");
            // Prometheus metrics were served while it trained (the pod spec names the port "metrics", see TrainingJob).
            String exposition = metrics.lastWithSteps();
            assertThat(exposition).as("a /metrics scrape during training (" + metrics.scrapes() + " scrapes)").isNotNull();
            assertThat(exposition).contains("# TYPE finetune_trainer_step gauge", "finetune_trainer_total_steps 12",
                    "finetune_trainer_loss ", "finetune_trainer_tokens_per_second ");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/lora-a:\n" + rec.transcript());
            FineTuneJobStatus s = done.getStatus();
            assertThat(s.phase).as(rec.transcript() + operator.log()).isEqualTo(Phase.Succeeded);
            // Pending may be missed when the pod starts before the first status write (a busy machine); the phase must never
            // step back, and the run must be seen Running before Succeeded.
            assertThat(rec.phases()).as(rec.transcript()).isSubsetOf(Phase.Pending, Phase.Running, Phase.Succeeded)
                    .doesNotHaveDuplicates().endsWith(Phase.Running, Phase.Succeeded);
            assertThat(rec.phases()).as(rec.transcript()).isSortedAccordingTo(java.util.Comparator.comparing(
                    (Phase p) -> List.of(Phase.Pending, Phase.Running, Phase.Succeeded).indexOf(p)));

            List<StatusRecorder.Seen> progress = rec.seen().stream().filter(x -> x.step() != null).toList();
            assertThat(progress).as("progress reports while running").hasSizeGreaterThanOrEqualTo(3);
            assertThat(progress).anySatisfy(x -> {
                assertThat(x.phase()).isEqualTo(Phase.Running);
                assertThat(x.step()).isLessThan(12);
            });
            assertThat(progress.get(progress.size() - 1).step()).isEqualTo(12);
            assertThat(progress.get(progress.size() - 1).totalSteps()).isEqualTo(12);
            assertThat(progress.get(progress.size() - 1).loss()).as("loss falls").isLessThan(progress.get(0).loss());

            Path out = work.resolve("out/lora-a");
            byte[] manifest = Files.readAllBytes(out.resolve("manifest.json"));
            assertThat(s.artifact.digest).isEqualTo("sha256:" + sha256(manifest));
            assertThat(s.artifact.uri).isEqualTo("file://" + out);
            assertThat(s.artifact.format).isEqualTo("peft-lora");
            long total = 0;
            for (JsonNode f : JSON.readTree(manifest).path("files")) {
                Path file = out.resolve(f.path("path").asText());
                assertThat(sha256(Files.readAllBytes(file))).as(file.toString()).isEqualTo(f.path("sha256").asText());
                total += Files.size(file);
            }
            assertThat(JSON.readTree(manifest).path("files").toString()).contains("adapter_model.safetensors");
            assertThat(s.artifact.sizeBytes).isEqualTo(total);
            assertThat(s.metrics.evalLossAfter).isLessThan(s.metrics.evalLossBefore);
            assertThat(s.attempts).isEqualTo(1);
            uninterruptedLoss = s.metrics.trainLoss;
        }
    }

    @Test
    @Order(2)
    void malformedDatasetLineFailsTheJobWithTheTrainersMessage() throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "bad-data")) {
            submit("bad-data", "bad.jsonl", 0);
            FineTuneJob done = rec.await(j -> StatusRecorder.inPhase(j, Phase.Failed) || StatusRecorder.inPhase(j, Phase.Succeeded),
                    Duration.ofSeconds(90), "bad-data to fail");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/bad-data:\n" + rec.transcript());
            assertThat(done.getStatus().phase).isEqualTo(Phase.Failed);
            assertThat(done.getStatus().message).contains("bad.jsonl:3");
            assertThat(done.getStatus().conditions).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Failed");
                assertThat(c.getMessage()).contains("bad.jsonl:3");
            });
            assertThat(done.getStatus().artifact).isNull();
        }
    }

    @Test
    @Order(3)
    void theTrainersTokenMayNotPatchAnotherJobsStatus() throws Exception {
        TrainerKubelet.Run run = kubelet.runs().values().stream().filter(r -> r.pod().name().startsWith("lora-a"))
                .findFirst().orElseThrow();
        var config = new ConfigBuilder().withMasterUrl(kube.url()).withOauthToken(run.token())
                .withCaCertFile(kube.caCertFile().toString()).withNamespace(NS).build();
        try (KubernetesClient trainer = new KubernetesClientBuilder().withConfig(config).build()) {
            String patch = "{\"status\":{\"progress\":{\"step\":1,\"totalSteps\":1}}}";
            // Another job's status: forbidden by the per-job Role (resourceNames: [its own job]).
            assertThat(statusPatch(trainer, "bad-data", patch)).isEqualTo(403);
            assertThat(kube.client().resources(FineTuneJob.class).inNamespace(NS).withName("bad-data").get()
                    .getStatus().progress).as("bad-data's status untouched").isNull();
            // The same token and call on its own job are allowed (so the 403 is RBAC, not authentication). The patch
            // repeats the job's current progress, leaving its status as it was.
            FineTuneJob own = kube.client().resources(FineTuneJob.class).inNamespace(NS).withName("lora-a").get();
            String same = JSON.writeValueAsString(JSON.createObjectNode().set("status",
                    JSON.createObjectNode().set("progress", JSON.valueToTree(own.getStatus().progress))));
            assertThat(statusPatch(trainer, "lora-a", same)).isEqualTo(200);
        }
    }

    /**
     * One raw JSON merge patch of {@code finetunejobs/<name>/status}, as the trainer sends it (fabric8's subresource patch
     * would GET the main resource first, which the per-job Role does not allow either). Returns the HTTP status.
     */
    static int statusPatch(KubernetesClient client, String name, String body) throws Exception {
        HttpClient http = client.getHttpClient();
        HttpRequest req = http.newHttpRequestBuilder()
                .uri(kube.url() + "/apis/finetune.io/v1alpha1/namespaces/" + NS + "/finetunejobs/" + name + "/status")
                .method("PATCH", "application/merge-patch+json", body).build();
        return http.sendAsync(req, String.class).get(30, TimeUnit.SECONDS).code();
    }

    @Test
    @Order(4)
    void aKilledTrainerIsRetriedAndResumesFromItsCheckpointToTheSameLoss() throws Exception {
        Path dest = work.resolve("out/lora-d");
        kubelet.killWhen((run, line) -> run.pod().name().startsWith("lora-d")
                && kubelet.runs().keySet().stream().filter(n -> n.startsWith("lora-d")).count() == 1
                && Files.isRegularFile(dest.resolve("checkpoints/step-4/manifest.json")));
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "lora-d")) {
            submit("lora-d", "train.jsonl", 2);
            FineTuneJob done = rec.await(j -> StatusRecorder.inPhase(j, Phase.Succeeded) || StatusRecorder.inPhase(j, Phase.Failed),
                    Duration.ofSeconds(180), "lora-d to finish");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/lora-d:\n" + rec.transcript());
            assertThat(done.getStatus().phase).as(rec.transcript()).isEqualTo(Phase.Succeeded);
            List<TrainerKubelet.Run> runs = kubelet.runs().values().stream().filter(r -> r.pod().name().startsWith("lora-d"))
                    .toList();
            assertThat(runs).hasSize(2);
            TrainerKubelet.Run first = runs.stream().filter(r -> r.process().exitValue() != 0).findFirst().orElseThrow();
            TrainerKubelet.Run retry = runs.stream().filter(r -> r.process().exitValue() == 0).findFirst().orElseThrow();
            assertThat(first.process().exitValue()).isEqualTo(137);
            String retryLog = Files.readString(retry.dir().resolve("trainer.log"));
            System.out.println("killed pod " + first.pod().name() + ":\n" + Files.readString(first.dir().resolve("trainer.log"))
                    + "\nretried pod " + retry.pod().name() + ":\n" + retryLog);
            assertThat(retryLog).contains("restored checkpoint step-").contains("resuming from").doesNotContain("step 1/12");
            assertThat(done.getStatus().attempts).isEqualTo(2);
            assertThat(uninterruptedLoss).as("case (a) ran first").isNotNull();
            // The killed pod computed the same steps as lora-a's uninterrupted run (identical job, seed and data).
            List<String> killed = stepLines(first.dir().resolve("trainer.log")).stream().map(EndToEndTest::stepAndLoss).toList();
            List<String> straight = stepLines(kubelet.runs().values().stream().filter(r -> r.pod().name().startsWith("lora-a"))
                    .filter(r -> r.process().exitValue() == 0).findFirst().orElseThrow().dir().resolve("trainer.log"))
                    .stream().map(EndToEndTest::stepAndLoss).toList();
            assertThat(killed).isNotEmpty();
            assertThat(killed.size()).isLessThan(straight.size());
            assertSameStepsAndLosses("steps before the kill", killed, straight.subList(0, killed.size()));
            List<String> resumed = stepLines(retry.dir().resolve("trainer.log")).stream().map(EndToEndTest::stepAndLoss).toList();
            assertThat(resumed.size()).isLessThanOrEqualTo(straight.size());
            assertSameStepsAndLosses("the resumed steps", resumed, straight.subList(straight.size() - resumed.size(), straight.size()));
            assertThat(done.getStatus().metrics.trainLoss).isCloseTo(uninterruptedLoss,
                    within(Math.abs(uninterruptedLoss) * RESUME_RELATIVE_TOLERANCE));
        } finally {
            kubelet.killWhen((run, line) -> false);
        }
    }

    static List<String> stepLines(Path log) throws Exception {
        return Files.readAllLines(log).stream().filter(l -> l.matches("step \\d+/\\d+ .*")).toList();
    }

    /**
     * What a resume promises (docs/preemption.md; trainer-image's ResumeTolerance): the checkpointed state bit for bit, the
     * losses after it within this relative bound of the uninterrupted run's, since another process may round the last bits
     * differently (memory alignment, CPU).
     */
    static final double RESUME_RELATIVE_TOLERANCE = 1e-5;

    /**
     * Log lines reduced by {@link #stepAndLoss}: the same steps in the same order, and each loss within the resume bound plus
     * one unit of the log's 4th decimal (two values a rounding error apart can print on either side of a 5 in the 5th).
     */
    static void assertSameStepsAndLosses(String what, List<String> actual, List<String> expected) {
        assertThat(actual.stream().map(l -> l.split(" ")[0]).toList()).as(what + ": steps")
                .containsExactlyElementsOf(expected.stream().map(l -> l.split(" ")[0]).toList());
        for (int i = 0; i < expected.size(); i++) {
            double want = Double.parseDouble(expected.get(i).split(" ")[1]);
            double got = Double.parseDouble(actual.get(i).split(" ")[1]);
            assertThat(got).as("%s: loss at %s", what, expected.get(i).split(" ")[0])
                    .isCloseTo(want, within(1e-4 + Math.abs(want) * RESUME_RELATIVE_TOLERANCE));
        }
    }

    static String stepAndLoss(String line) {
        String[] f = line.trim().split("\\s+");
        return f[1] + " " + f[3];
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static List<Path> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }
}
