package io.finetune.e2e;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.GitOpsHealth;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Preemption on a real 1.20 control plane: a training pod deleted gracefully mid-run (the fake node sends SIGTERM, waits
 * the pod's grace period, then SIGKILL) checkpoints the step it reached, and the pod the Job controller starts next resumes
 * at the next step with the uninterrupted run's losses; suspend/resume does the same; GPU time is billed per attempt.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PreemptionEndToEndTest {
    static final String NS = "ml";
    static final int STEPS = 120;
    /** The step after which the test interrupts the run (the trainer stops at the end of the step in flight). */
    static final int INTERRUPT_AT = 30;

    @TempDir
    static Path work;
    static OperatorCluster cluster;
    static ControlPlane kube;
    static TrainerKubelet kubelet;
    static List<String> straight;
    /** Objects the operator wrote during these runs, one per phase, for the Argo CD health check. */
    static final java.util.Map<Phase, FineTuneJob> seenByPhase = new java.util.EnumMap<>(Phase.class);

    @BeforeAll
    static void startEverything() throws Exception {
        cluster = OperatorCluster.start(work, NS, plane -> kubelet = new TrainerKubelet(plane, work.resolve("pods")));
        kube = cluster.kube();
        Repo.trainerJar();
        TinyLoraJob.initModelAndData(work);
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void showLogs(TestInfo info) {
        System.out.println("== " + info.getDisplayName() + " trainer output:\n" + (kubelet == null ? "" : kubelet.logs()));
    }

    static FineTuneJob submit(String name) {
        return submit(name, "train.jsonl");
    }

    static FineTuneJob submit(String name, String dataset) {
        return submit(name, dataset, "");
    }

    /** The job with {@code extraSpec} (YAML lines of spec, e.g. {@code queueName: q}) added. */
    static FineTuneJob submit(String name, String dataset, String extraSpec) {
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
                    lora: {rank: 4, alpha: 8, dropout: 0.1, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: %d, batchSize: 4, learningRate: 0.01, checkpointEverySteps: 1000, logEverySteps: 1,
                             seed: 11, checkpointGracePeriodSeconds: 60}
                  resources: {gpus: 1}
                  backoffLimit: 0
                  preflight: Skip   # PreflightEndToEndTest covers the preflight
                  output:
                    destination: file://%s
                """.formatted(name, NS, work.resolve("model"), work.resolve(dataset), STEPS, work.resolve("out").resolve(name))
                + extraSpec.indent(2);
        FineTuneJob job = kube.client().resources(FineTuneJob.class)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        return kube.client().resources(FineTuneJob.class).inNamespace(NS).resource(job).create();
    }

    static List<TrainerKubelet.Run> runs(String job) {
        return kubelet.runs().values().stream().filter(r -> r.pod().name().startsWith(job + "-"))
                .sorted(java.util.Comparator.comparing(r -> r.pod().pod().getMetadata().getCreationTimestamp())).toList();
    }

    /** Waits until the job's first trainer has logged step {@code step}. */
    static TrainerKubelet.Run awaitStep(String job, int step) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            List<TrainerKubelet.Run> r = runs(job);
            if (!r.isEmpty()) {
                Path log = r.get(0).dir().resolve("trainer.log");
                if (Files.isRegularFile(log) && Files.readString(log).contains("\nstep " + step + "/" + STEPS + " ")) {
                    return r.get(0);
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError(job + " never reached step " + step + "\n" + kubelet.logs());
    }

    static FineTuneJob awaitFinal(StatusRecorder rec, String job) throws Exception {
        return rec.await(j -> StatusRecorder.inPhase(j, Phase.Succeeded) || StatusRecorder.inPhase(j, Phase.Failed),
                Duration.ofSeconds(240), job + " to finish");
    }

    /** The interrupted run and its resumption together trained exactly the uninterrupted run's steps and losses. */
    static void assertResumedWithoutLoss(String job, FineTuneJob done, StatusRecorder rec) throws Exception {
        assertThat(done.getStatus().phase).as(rec.transcript() + cluster.operator().log()).isEqualTo(Phase.Succeeded);
        List<TrainerKubelet.Run> runs = runs(job);
        assertThat(runs).hasSize(2);
        TrainerKubelet.Run first = runs.get(0);
        TrainerKubelet.Run second = runs.get(1);
        assertThat(first.process().exitValue()).as("the trainer stopped on SIGTERM").isEqualTo(TrainerResult.PREEMPTED_EXIT_CODE);
        List<String> before = EndToEndTest.stepLines(first.dir().resolve("trainer.log")).stream().map(EndToEndTest::stepAndLoss).toList();
        List<String> after = EndToEndTest.stepLines(second.dir().resolve("trainer.log")).stream().map(EndToEndTest::stepAndLoss).toList();
        int k = before.size();
        String secondLog = Files.readString(second.dir().resolve("trainer.log"));
        System.out.println(job + ": first pod stopped after step " + k + "; second pod: "
                + secondLog.lines().filter(l -> l.startsWith("resuming from")).findFirst().orElse("?")
                + "; its first step line: " + after.get(0));
        assertThat(k).isBetween(INTERRUPT_AT, STEPS - 1);
        assertThat(Files.readString(first.dir().resolve("trainer.log"))).contains("stopped by SIGTERM after step " + k + "/" + STEPS);
        assertThat(secondLog).contains("(step " + k + "/" + STEPS + ")");
        assertThat(after.get(0)).startsWith((k + 1) + "/" + STEPS + " ");
        List<String> all = new java.util.ArrayList<>(before);
        all.addAll(after);
        EndToEndTest.assertSameStepsAndLosses("no step lost or repeated, same losses", all, straight);

        FineTuneJobStatus s = done.getStatus();
        assertThat(s.usage.attempts).isEqualTo(2);
        assertThat(s.attempts).as("status.attempts counts the deleted pod too").isEqualTo(2);
        double measured = runs.stream().mapToDouble(r -> kubelet.ranFor().get(r.pod().name()).toMillis() / 1000.0).sum();
        System.out.printf("%s: status.usage.gpuSeconds %.1f, fake node measured %.3f s over %d pods%n", job, s.usage.gpuSeconds,
                measured, runs.size());
        // Container timestamps have second resolution: each attempt's start and end are truncated to the second.
        assertThat(s.usage.gpuSeconds).isBetween(measured - runs.size(), measured + runs.size());
    }

    @Test
    @Order(1)
    void uninterruptedRun() throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "pre-a")) {
            submit("pre-a");
            FineTuneJob done = awaitFinal(rec, "pre-a");
            assertThat(done.getStatus().phase).as(rec.transcript()).isEqualTo(Phase.Succeeded);
            straight = EndToEndTest.stepLines(runs("pre-a").get(0).dir().resolve("trainer.log")).stream()
                    .map(EndToEndTest::stepAndLoss).toList();
            assertThat(straight).hasSize(STEPS);
            assertThat(done.getStatus().usage.preemptions).isZero();
            seenByPhase.putAll(rec.firstByPhase());
        }
    }

    @Test
    @Order(2)
    void podDeletedGracefullyMidRunCheckpointsAndTheRetryResumesAtTheNextStep() throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "pre-b")) {
            submit("pre-b");
            TrainerKubelet.Run first = awaitStep("pre-b", INTERRUPT_AT);
            kube.client().pods().inNamespace(NS).withName(first.pod().name()).delete();   // graceful: the pod's 60 s
            FineTuneJob done = awaitFinal(rec, "pre-b");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/pre-b:\n" + rec.transcript());
            assertResumedWithoutLoss("pre-b", done, rec);
            assertThat(done.getStatus().usage.preemptions).isEqualTo(1);
        }
    }

    @Test
    @Order(3)
    void suspendMidRunCheckpointsAndResumeContinuesAtTheNextStep() throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "pre-c")) {
            submit("pre-c");
            awaitStep("pre-c", INTERRUPT_AT);
            suspend("pre-c", true);
            FineTuneJob suspended = rec.await(j -> StatusRecorder.inPhase(j, Phase.Suspended)
                    && runs("pre-c").get(0).process().isAlive() == false, Duration.ofSeconds(120), "pre-c suspended");
            Thread.sleep(2000);   // let the final progress and status settle
            suspended = kube.client().resources(FineTuneJob.class).inNamespace(NS).withName("pre-c").get();
            int k = EndToEndTest.stepLines(runs("pre-c").get(0).dir().resolve("trainer.log")).size();
            assertThat(suspended.getStatus().message).as(rec.transcript()).contains("at step " + k + "/" + STEPS);
            suspend("pre-c", false);
            FineTuneJob done = awaitFinal(rec, "pre-c");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/pre-c:\n" + rec.transcript());
            assertThat(rec.phases()).as(rec.transcript()).contains(Phase.Suspended);
            assertResumedWithoutLoss("pre-c", done, rec);
            seenByPhase.putAll(rec.firstByPhase());
        }
    }

    @Test
    @Order(4)
    void argoCdHealthOfTheObjectsTheOperatorWrote() throws Exception {
        Files.writeString(work.resolve("bad.jsonl"), "{\"prompt\": \"12=\", \"completion\": \"21\"}\n{not json\n");
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "pre-bad")) {
            submit("pre-bad", "bad.jsonl");
            FineTuneJob done = awaitFinal(rec, "pre-bad");
            assertThat(done.getStatus().phase).as(rec.transcript()).isEqualTo(Phase.Failed);
            seenByPhase.put(Phase.Failed, done);
            if (rec.firstByPhase().containsKey(Phase.Pending)) {
                seenByPhase.putIfAbsent(Phase.Pending, rec.firstByPhase().get(Phase.Pending));
            }
        }
        System.out.println("Argo CD health of objects from these runs:");
        for (var e : seenByPhase.entrySet()) {
            GitOpsHealth.Argo h = GitOpsHealth.argo(e.getValue());
            System.out.println("  " + e.getKey() + " -> " + h);
            String want = switch (e.getKey()) {
                case Pending, Queued, Running -> "Progressing";
                case Succeeded -> "Healthy";
                case Failed -> "Degraded";
                case Suspended -> "Suspended";
            };
            assertThat(h.status()).as(e.getKey() + ": " + e.getValue().getStatus().message).isEqualTo(want);
            if (e.getKey() == Phase.Failed) {
                assertThat(h.message()).contains("bad.jsonl:2");
            }
        }
        assertThat(seenByPhase).containsKeys(Phase.Running, Phase.Succeeded, Phase.Failed, Phase.Suspended);
    }

    static void suspend(String name, boolean suspend) {
        kube.client().resources(FineTuneJob.class).inNamespace(NS).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
    }
}
