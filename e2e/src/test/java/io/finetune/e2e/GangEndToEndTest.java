package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.finetune.api.TrainerContract.Gang;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.ControlPlane;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gang ({@code spec.resources.nodes: 2}) on a real 1.20 control plane: the operator's one Job of two pods, both bound to
 * the test's node (two GPUs), whose kubelet runs the real trainer {@code pod} command for each with the pod's env and its
 * downward-API annotations file; the two trainers rendezvous at rank 0's pod IP (127.0.0.1) and all-reduce over Gloo.
 * Then a rank's pod deleted mid-run: the operator evicts the other, and the next attempt's two pods resume from rank 0's
 * checkpoint on the uninterrupted gang's loss curve. Needs the Gloo binding (hack/build-gloo-jni.sh, set by hack/test.sh).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GangEndToEndTest {
    static final String NS = "ml";
    static final int NODES = 2;
    static final int STEPS = 80;
    static final int CHECKPOINT_EVERY = 10;
    /** hack/test.sh sets it with the binding built, like the trainer's collective tests: then a missing binding fails. */
    static final String REQUIRE_GLOO = "FINETUNE_REQUIRE_GLOO";

    @TempDir
    static Path work;
    static OperatorCluster cluster;
    static ControlPlane kube;
    static TrainerKubelet kubelet;
    /** gang-a's step lines ("step loss"), the uninterrupted curve the resumed gang must continue. */
    static List<String> straight;

    @BeforeAll
    static void startEverything() throws Exception {
        requireGloo();
        cluster = OperatorCluster.start(work, NS, NODES, plane -> kubelet = new TrainerKubelet(plane, work.resolve("pods")));
        kube = cluster.kube();
        Repo.trainerJar();
        TinyLoraJob.initModelAndData(work);
    }

    static void requireGloo() {
        String library = System.getenv(TrainerKubelet.GLOO_LIBRARY);
        if (library != null && Files.isRegularFile(Path.of(library))) {
            return;
        }
        String why = "the Gloo binding is not built: " + TrainerKubelet.GLOO_LIBRARY + "=" + library + " (run "
                + "hack/build-gloo-jni.sh and set " + TrainerKubelet.GLOO_LIBRARY + " to the path it prints)";
        if ("true".equalsIgnoreCase(System.getenv(REQUIRE_GLOO))) {
            fail(why + "; " + REQUIRE_GLOO + "=true requires it");
        }
        Assumptions.abort(why + "; set " + REQUIRE_GLOO + "=true to fail instead");
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

    /** A LoRA job of two pods, one rank each (gpus: 1, one CPU: OMP_NUM_THREADS=1 per rank on this 2-core machine). */
    static FineTuneJob submit(String name) {
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
                  training: {maxSteps: %d, batchSize: 2, learningRate: 0.01, checkpointEverySteps: %d, logEverySteps: 1,
                             seed: 11, checkpointGracePeriodSeconds: 60}
                  resources: {gpus: 1, nodes: %d, cpu: "1", collectiveTimeoutSeconds: 60}
                  preflight: Skip   # PreflightEndToEndTest covers the preflight
                  output:
                    destination: file://%s
                """.formatted(name, NS, work.resolve("model"), work.resolve("train.jsonl"), STEPS, CHECKPOINT_EVERY, NODES,
                TinyLoraJob.output(work, name));
        FineTuneJob job = kube.client().resources(FineTuneJob.class)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        return kube.client().resources(FineTuneJob.class).inNamespace(NS).resource(job).create();
    }

    static FineTuneJob awaitFinal(StatusRecorder rec, String job) throws Exception {
        return rec.await(j -> StatusRecorder.inPhase(j, Phase.Succeeded) || StatusRecorder.inPhase(j, Phase.Failed),
                Duration.ofSeconds(300), job + " to finish");
    }

    /** The job's trainer runs in the order their pods were created. */
    static List<TrainerKubelet.Run> runs(String job) {
        return kubelet.runs().values().stream().filter(r -> r.pod().name().startsWith(job + "-"))
                .sorted(Comparator.comparing((TrainerKubelet.Run r) -> r.pod().pod().getMetadata().getCreationTimestamp())
                        .thenComparing(r -> r.pod().name())).toList();
    }

    /**
     * The runs of gang attempt {@code attempt}, by rank, from the annotations each container saw: the operator records the
     * attempt's number on the Job, so a restarted gang is attempt 2 even though the evicted pods of attempt 1 are gone.
     */
    static List<TrainerKubelet.Run> attempt(String job, int attempt) {
        return runs(job).stream().filter(r -> Integer.toString(attempt).equals(r.annotations().get(Gang.ATTEMPT)))
                .filter(r -> r.annotations().containsKey(Gang.RANK))
                .sorted(Comparator.comparing(r -> Integer.parseInt(r.annotations().get(Gang.RANK)))).toList();
    }

    static String log(TrainerKubelet.Run run) throws Exception {
        return Files.readString(run.dir().resolve("trainer.log"));
    }

    /** Rank 0's step lines as "step loss" (the pod's launcher prefixes each rank's lines with {@code [rank N] }). */
    static List<String> steps(TrainerKubelet.Run run) throws Exception {
        return Files.readAllLines(run.dir().resolve("trainer.log")).stream().filter(l -> l.startsWith("[rank 0] "))
                .map(l -> l.substring("[rank 0] ".length())).filter(l -> l.matches("step \\d+/\\d+ .*"))
                .map(EndToEndTest::stepAndLoss).toList();
    }

    @Test
    @Order(1)
    void twoPodGangTrainsOnBothRanksAndSucceedsWithOneArtifactAndWorldSizeTwo() throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "gang-a")) {
            submit("gang-a");
            FineTuneJob done = awaitFinal(rec, "gang-a");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/gang-a:\n" + rec.transcript());
            FineTuneJobStatus s = done.getStatus();
            assertThat(s.phase).as(rec.transcript() + cluster.operator().log()).isEqualTo(Phase.Succeeded);

            List<Job> jobs = kube.client().batch().v1().jobs().inNamespace(NS).list().getItems().stream()
                    .filter(j -> j.getMetadata().getOwnerReferences().stream().anyMatch(o -> o.getName().equals("gang-a")))
                    .toList();
            assertThat(jobs).as("one Job for the whole gang").hasSize(1);
            assertThat(jobs.get(0).getSpec().getParallelism()).isEqualTo(NODES);
            assertThat(jobs.get(0).getSpec().getCompletions()).isEqualTo(NODES);

            List<TrainerKubelet.Run> runs = runs("gang-a");
            assertThat(runs).as("both pods ran a trainer on the node").hasSize(NODES);
            assertThat(runs).allSatisfy(r -> assertThat(r.process().exitValue()).as(r.pod().name()).isZero());
            assertThat(runs.stream().map(r -> r.annotations().get(Gang.RANK)).collect(Collectors.toSet()))
                    .isEqualTo(Set.of("0", "1"));
            assertThat(runs).allSatisfy(r -> {
                assertThat(r.annotations()).containsEntry(Gang.MASTER_ADDR, "127.0.0.1").containsEntry(Gang.ATTEMPT, "1");
            });
            for (TrainerKubelet.Run r : attempt("gang-a", 1)) {
                String rank = r.annotations().get(Gang.RANK);
                assertThat(log(r)).as(r.pod().name()).contains("of " + NODES + ", node " + rank + " of " + NODES
                        + ", master 127.0.0.1:29500");
            }
            TrainerKubelet.Run rank0 = attempt("gang-a", 1).get(0);
            straight = steps(rank0);
            assertThat(straight).as("rank 0 trained every step").hasSize(STEPS);

            assertThat(s.worldSize).isEqualTo(NODES);
            Path out = TinyLoraJob.output(work, "gang-a");
            byte[] manifest = Files.readAllBytes(out.resolve("manifest.json"));
            assertThat(s.artifact.digest).isEqualTo("sha256:" + TinyLoraJob.sha256(manifest));
            assertThat(s.artifact.uri).isEqualTo("file://" + out);
            assertThat(EndToEndTest.files(work.resolve("out")).stream().filter(p -> p.getFileName().toString()
                    .equals("manifest.json") && !p.toString().contains("/checkpoints/")).toList())
                    .as("one artifact").containsExactly(out.resolve("manifest.json"));
            double measured = runs.stream().mapToDouble(r -> kubelet.ranFor().get(r.pod().name()).toMillis() / 1000.0).sum();
            System.out.printf("gang-a: status.usage.gpuSeconds %.1f, fake node measured %.3f s over %d pods%n",
                    s.usage.gpuSeconds, measured, runs.size());
            // one GPU per pod; container timestamps have second resolution (each pod's start and end truncated)
            assertThat(s.usage.gpuSeconds).isBetween(measured - runs.size(), measured + runs.size());
        }
    }

    @Test
    @Order(2)
    void aRanksPodDeletedMidRunRestartsTheWholeGangFromItsCheckpoint() throws Exception {
        assertThat(straight).as("the uninterrupted gang ran first").isNotNull();
        Path firstCheckpoint = TinyLoraJob.output(work, "gang-b").resolve("checkpoints/step-" + CHECKPOINT_EVERY + "/manifest.json");
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "gang-b")) {
            submit("gang-b");
            TrainerKubelet.Run victim = awaitRank1AfterCheckpoint("gang-b", firstCheckpoint);
            kube.client().pods().inNamespace(NS).withName(victim.pod().name()).delete();   // graceful, as a user or a drain
            FineTuneJob done = awaitFinal(rec, "gang-b");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/gang-b:\n" + rec.transcript());
            assertThat(done.getStatus().phase).as(rec.transcript() + cluster.operator().log()).isEqualTo(Phase.Succeeded);

            List<Event> restarted = kube.client().v1().events().inNamespace(NS).list().getItems().stream()
                    .filter(e -> "GangRestarted".equals(e.getReason()) && "gang-b".equals(e.getInvolvedObject().getName()))
                    .toList();
            assertThat(restarted).as("a GangRestarted event").isNotEmpty();
            assertThat(restarted.get(0).getMessage()).contains("rank 1 pod " + victim.pod().name() + " of gang attempt 1");

            List<TrainerKubelet.Run> first = attempt("gang-b", 1);
            List<TrainerKubelet.Run> second = attempt("gang-b", 2);
            assertThat(runs("gang-b")).as("two attempts of two pods").hasSize(2 * NODES);
            assertThat(first).hasSize(NODES);
            assertThat(second).hasSize(NODES);
            assertThat(first).as("the first attempt stopped on SIGTERM, both ranks").allSatisfy(r ->
                    assertThat(r.process().exitValue()).as(r.pod().name()).isEqualTo(TrainerResult.PREEMPTED_EXIT_CODE));
            assertThat(second).allSatisfy(r -> assertThat(r.process().exitValue()).as(r.pod().name()).isZero());

            List<String> before = steps(first.get(0));
            int k = before.size();
            String resumedLog = log(second.get(0));
            System.out.println("gang-b: attempt 1 stopped after step " + k + "; attempt 2 rank 0: "
                    + resumedLog.lines().filter(l -> l.contains("resuming from")).findFirst().orElse("?"));
            assertThat(k).isBetween(CHECKPOINT_EVERY, STEPS - 1);
            assertThat(resumedLog).contains("resuming from").contains("step-" + k).contains("(step " + k + "/" + STEPS + ")");
            assertThat(log(second.get(1))).as("rank 1's own work directory: rank 0's checkpoint fetched")
                    .contains("restored checkpoint step-" + k + " from ").contains("(rank 0's)")
                    .contains("resuming from").contains("(step " + k + "/" + STEPS + ")");
            List<String> after = steps(second.get(0));
            assertThat(after.get(0)).startsWith((k + 1) + "/" + STEPS + " ");
            List<String> all = new ArrayList<>(before);
            all.addAll(after);
            EndToEndTest.assertSameStepsAndLosses("the gang's steps across the restart", all, straight);
            assertThat(done.getStatus().worldSize).isEqualTo(NODES);
            assertThat(done.getStatus().artifact).isNotNull();
        }
    }

    /** Waits until rank 0 wrote its first checkpoint; returns the pod of rank 1 of that attempt. */
    static TrainerKubelet.Run awaitRank1AfterCheckpoint(String job, Path checkpoint) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            List<TrainerKubelet.Run> ranked = attempt(job, 1);
            if (ranked.size() == NODES && Files.isRegularFile(checkpoint)) {
                return ranked.get(1);
            }
            Thread.sleep(20);
        }
        throw new AssertionError(job + " never wrote " + checkpoint + "\n" + kubelet.logs());
    }
}
