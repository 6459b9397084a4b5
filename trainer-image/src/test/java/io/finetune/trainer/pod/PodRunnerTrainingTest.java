package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.Progress;
import io.finetune.trainer.ResumeTolerance;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.failure.Failure;
import io.finetune.trainer.run.TrainingRun;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `pod` mode with the real training (PodRunner.inStorage) on a tiny job, the Kubernetes side replaced by a recording
 * status patcher: progress reaches the job, the termination message carries the published artifact, a bad dataset line
 * becomes InvalidDataset naming file:line, and a fresh pod resumes from the checkpoint at the destination.
 */
class PodRunnerTrainingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;

    @BeforeAll
    static void modelAndData() throws Exception {
        TinyModels.writeCharModel(dir.resolve("model"));
        TinyModels.writeReversalDataset(dir.resolve("train.jsonl"), 40);
        Files.writeString(dir.resolve("bad.jsonl"), "{\"prompt\": \"1=\", \"completion\": \"1\"}\n"
                + "{\"prompt\": \"2=\", \"completion\": \"2\"}\n{\"prompt\": \"3=\", \"completion\"\n");
    }

    record Pod(int exit, JsonNode result, List<Progress> progress) {
    }

    static Pod runPod(String name, String dataset, String pod) throws Exception {
        return runPod(name, dataset, pod, "");
    }

    /** {@code extraSpec}: more lines under spec: (indented two spaces), e.g. an evaluation block. */
    static Pod runPod(String name, String dataset, String pod, String extraSpec) throws Exception {
        return runPod(name, dataset, pod, extraSpec, "");
    }

    /** {@code extraTraining}: more fields of spec.training, e.g. {@code ", precision: bf16"}. */
    static Pod runPod(String name, String dataset, String pod, String extraSpec, String extraTraining) throws Exception {
        Path podDir = Files.createDirectories(dir.resolve(pod));
        Path config = Files.writeString(podDir.resolve("job.yaml"), """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s, namespace: ml}
                spec:
                  model: {source: "file://%s"}
                  dataset: {source: "file://%s", format: prompt-completion, evalFraction: 0.2, maxSeqLength: 32}
                  method:
                    type: LoRA
                    lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: 4, batchSize: 4, learningRate: 0.01, checkpointEverySteps: 2%s}
                  output: {destination: "file://%s"}
                %s
                """.formatted(name, dir.resolve("model"), dir.resolve(dataset), extraTraining, dir.resolve("out").resolve(name),
                extraSpec));
        Map<String, String> env = new HashMap<>();
        env.put("FINETUNE_CONFIG", config.toString());
        env.put("FINETUNE_JOB_NAME", name);
        env.put("FINETUNE_JOB_NAMESPACE", "ml");
        env.put("FINETUNE_SCRATCH", Files.createDirectories(podDir.resolve("scratch")).toString());
        env.put("FINETUNE_TERMINATION_LOG", podDir.resolve("termination-log").toString());
        env.put("FINETUNE_PROGRESS_INTERVAL_SECONDS", "0.01");
        List<Progress> progress = new CopyOnWriteArrayList<>();
        StatusPatcher patcher = new StatusPatcher() {
            @Override
            public void patchProgress(Progress p) {
                progress.add(p);
            }

            @Override
            public String target() {
                return "ml/" + name;
            }
        };
        int exit = PodRunner.run(env, PodRunner.inStorage(env), Failure::reasonOf, SecretRedactor.fromEnv(env),
                new PodRunner.Wiring(e -> patcher, e -> new InetSocketAddress("127.0.0.1", 0)));
        return new Pod(exit, JSON.readTree(podDir.resolve("termination-log").toFile()), progress);
    }

    @Test
    void reportedMemoryIsTheSummarysMeasuredMemory() throws Exception {
        // bf16 holds the frozen weights in 2 bytes: the measured weightBytes differ from an fp32 re-estimate (total*4).
        Pod pod = runPod("memory", "train.jsonl", "pod-memory", "", ", precision: bf16");

        assertThat(pod.exit()).as(pod.result().toString()).isZero();
        JsonNode summary = JSON.readTree(dir.resolve("out/memory").resolve(RunLayout.SUMMARY).toFile()).path("memory");
        JsonNode reported = pod.result().path("memory");
        assertThat(summary.path("weightBytes").asLong()).as("measured from the live bf16/fp32 tensors")
                .isPositive().isLessThan(summary.path("totalParameters").asLong() * Float.BYTES);
        for (String field : List.of("totalParameters", "trainableParameters", "weightBytes", "gradientBytes",
                "optimizerStateBytes", "peakRssBytes")) {
            assertThat(reported.path(field)).as("status.memory.%s", field).isEqualTo(summary.path(field));
        }
        assertThat(reported).isEqualTo(summary);

        // The precision that ran (spec bf16 honoured on the CPU) and the device, in the summary and in the pod's result.
        JsonNode ran = JSON.readTree(dir.resolve("out/memory").resolve(RunLayout.SUMMARY).toFile()).path("execution");
        assertThat(ran.path("precision").asText()).isEqualTo("bf16");
        assertThat(ran.path("device").asText()).isEqualTo("cpu()");
        assertThat(pod.result().path("execution")).isEqualTo(ran);
    }

    @Test
    void succeededResultCarriesThePublishedArtifactAndProgressReachesTheJob() throws Exception {
        Pod pod = runPod("ok", "train.jsonl", "pod-ok");

        assertThat(pod.exit()).as(pod.result().toString()).isZero();
        JsonNode a = pod.result().path("artifact");
        Path out = dir.resolve("out/ok");
        byte[] manifest = Files.readAllBytes(out.resolve("manifest.json"));
        assertThat(a.path("digest").asText())
                .isEqualTo("sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(manifest)));
        assertThat(a.path("uri").asText()).isEqualTo("file://" + out);
        assertThat(a.path("format").asText()).isEqualTo("peft-lora");
        assertThat(a.path("servableBy").toString()).as("r=4 plain LoRA, judged from the written adapter_config.json")
                .isEqualTo("[\"peft\",\"vllm\"]");
        assertThat(a.has("servingNote")).as("r=4 fits vLLM's default --max-lora-rank 16").isFalse();
        assertThat(new String(manifest)).contains("adapter_model.safetensors").doesNotContain("checkpoints/");
        assertThat(out.resolve("checkpoints/step-2/manifest.json")).as("checkpoint published to the destination").exists();
        assertThat(pod.result().path("steps").asInt()).isEqualTo(4);
        assertThat(pod.result().path("memory").path("trainableParameters").asLong()).isPositive();
        assertThat(pod.progress()).isNotEmpty();
        Progress last = pod.progress().get(pod.progress().size() - 1);
        assertThat(last.step).isEqualTo(4);
        assertThat(last.totalSteps).isEqualTo(4);
        assertThat(last.loss).isFinite();
    }

    @Test
    void malformedDatasetLineIsInvalidDatasetNamingFileAndLine() throws Exception {
        Pod pod = runPod("bad", "bad.jsonl", "pod-bad");

        assertThat(pod.exit()).isEqualTo(1);
        assertThat(pod.result().path("outcome").asText()).isEqualTo("Failed");
        assertThat(pod.result().path("reason").asText()).isEqualTo("InvalidDataset");
        assertThat(pod.result().path("message").asText()).contains("bad.jsonl:3");
        assertThat(dir.resolve("out/bad/manifest.json")).doesNotExist();
    }

    @Test
    void aFreshPodResumesFromTheCheckpointAtTheDestination() throws Exception {
        Pod first = runPod("resume", "train.jsonl", "pod-r1");
        Path checkpoint = dir.resolve("out/resume/checkpoints/step-2");
        Map<Path, java.nio.file.attribute.FileTime> published = modificationTimes(checkpoint);
        Pod second = runPod("resume", "train.jsonl", "pod-r2");   // new scratch: only the destination is shared

        assertThat(second.exit()).isZero();
        // The reporter sends the latest value only (a fast step 4 can replace step 3 before it goes out), so every
        // reported step is checked, and the step-2 checkpoint must not have been trained and published again.
        assertThat(second.progress()).isNotEmpty()
                .allSatisfy(p -> assertThat(p.step).as("steps reported after resuming from step-2").isGreaterThan(2));
        assertThat(published).isNotEmpty();
        assertThat(modificationTimes(checkpoint)).as("step-2 restored, not retrained").isEqualTo(published);
        double uninterrupted = first.result().path("metrics").path("trainLoss").asDouble();
        assertThat(second.result().path("metrics").path("trainLoss").asDouble())
                .isCloseTo(uninterrupted, ResumeTolerance.around(uninterrupted));
    }

    @Test
    void missedEvaluationGateRecordsBothLossesAndKeepsTheOutputUnderRejected() throws Exception {
        Pod pod = runPod("gate", "train.jsonl", "pod-gate", "  evaluation: {minRelativeImprovement: 0.9}");

        assertThat(pod.exit()).as("a verdict on a finished run: the Job completes instead of retrying").isZero();
        assertThat(pod.result().path("outcome").asText()).isEqualTo("Failed");
        assertThat(pod.result().path("reason").asText()).isEqualTo("EvaluationGateFailed");
        double before = pod.result().path("metrics").path("evalLossBefore").asDouble();
        double after = pod.result().path("metrics").path("evalLossAfter").asDouble();
        assertThat(pod.result().path("message").asText())
                .contains(String.format(java.util.Locale.ROOT, "%.4f before training, %.4f after", before, after))
                .contains("minRelativeImprovement=0.9").contains("/out/gate/rejected/");
        assertThat(pod.result().has("artifact")).isFalse();
        Path out = dir.resolve("out/gate");
        assertThat(out.resolve("rejected/adapter_config.json")).as("kept for inspection").exists();
        assertThat(out.resolve("rejected/training_summary.json")).exists();
        assertThat(out.resolve("adapter_config.json")).as("nothing servable at the destination's top level").doesNotExist();
    }

    @Test
    void evalEveryStepsPublishesTheBestStepsWeights() throws Exception {
        Pod last = runPod("last", "train.jsonl", "pod-last", "  evaluation: {maxEvalLoss: 100}");
        Pod best = runPod("best", "train.jsonl", "pod-best", "  evaluation: {maxEvalLoss: 100, evalEverySteps: 1}");

        assertThat(best.exit()).isZero();
        assertThat(best.result().path("outcome").asText()).isEqualTo("Succeeded");
        int step = best.result().path("metrics").path("bestStep").asInt();
        assertThat(step).isBetween(1, 4);
        double lastLoss = last.result().path("metrics").path("evalLossAfter").asDouble();
        double bestLoss = best.result().path("metrics").path("evalLossAfter").asDouble();
        assertThat(bestLoss).as("the chosen weights are never worse than the last step's").isLessThanOrEqualTo(lastLoss + 1e-6);
        if (step == 4) {
            assertThat(bestLoss).isCloseTo(lastLoss, within(1e-6));
        }
        assertThat(dir.resolve("out/best/eval-best")).as("the kept weights are not published").doesNotExist();
        assertThat(dir.resolve("out/best/adapter_config.json")).exists();
    }

    private static Map<Path, java.nio.file.attribute.FileTime> modificationTimes(Path dir) throws Exception {
        Map<Path, java.nio.file.attribute.FileTime> times = new HashMap<>();
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                times.put(dir.relativize(f), Files.getLastModifiedTime(f));
            }
        }
        return times;
    }
}
