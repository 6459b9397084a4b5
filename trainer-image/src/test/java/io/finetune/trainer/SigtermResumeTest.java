package io.finetune.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.TrainerResult;
import io.finetune.trainer.train.Checkpoints;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real SIGTERM to a child JVM running {@code run <job.yaml>} (kill -TERM, as the kubelet's container runtime sends on pod deletion): the trainer
 * finishes its step, checkpoints it, exits 75, and the same command then resumes at the next step and ends with the loss
 * curve of an uninterrupted run.
 */
class SigtermResumeTest {
    private static final Pattern STEP = Pattern.compile("^step (\\d+)/(\\d+) ");
    private static final int STEPS = 150;

    @TempDir
    Path dir;

    @BeforeEach
    void modelAndData() throws Exception {
        TinyModels.writeCharModel(dir.resolve("model"));
        TinyModels.writeReversalDataset(dir.resolve("train.jsonl"), 40);
    }

    private Path job(String name) throws Exception {
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                spec:
                  model:
                    source: file://%s
                  dataset:
                    source: file://%s
                    format: prompt-completion
                    evalFraction: 0.2
                    maxSeqLength: 32
                  method:
                    type: LoRA
                    lora:
                      rank: 4
                      alpha: 8
                      dropout: 0.1
                      targetModules: [q_proj, v_proj]
                  training:
                    maxSteps: %d
                    batchSize: 4
                    gradientAccumulationSteps: 2
                    learningRate: 0.01
                    checkpointEverySteps: 1000
                    logEverySteps: 1
                  output:
                    destination: file://%s
                """.formatted(name, dir.resolve("model"), dir.resolve("train.jsonl"), STEPS, dir.resolve(name + "-out")));
        return f;
    }

    record Child(int code, List<Integer> steps, String output) {
    }

    /** Runs {@code Main run job} in a new JVM; sends SIGTERM once it has printed step {@code termAt} (0: never). */
    private static Child run(Path job, int termAt) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "run", job.toString()).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        List<Integer> steps = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        boolean sent = false;
        try (BufferedReader r = p.inputReader(StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                Matcher m = STEP.matcher(line);
                if (m.find()) {
                    steps.add(Integer.parseInt(m.group(1)));
                    if (!sent && termAt > 0 && steps.get(steps.size() - 1) >= termAt) {
                        // kill(1), not Process.destroy(): destroy sends SIGTERM too but closes the pipes we still read.
                        int rc = new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).inheritIO().start().waitFor();
                        assertThat(rc).as("kill -TERM").isZero();
                        sent = true;
                    }
                }
            }
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(out.toString()).isTrue();
        return new Child(p.exitValue(), steps, out.toString());
    }

    private static List<Double> lossCurve(Path out) throws Exception {
        JsonNode summary = new ObjectMapper().readTree(out.resolve("training_summary.json").toFile());
        List<Double> curve = new ArrayList<>();
        summary.path("lossCurve").forEach(n -> curve.add(n.asDouble()));
        return curve;
    }

    @Test
    void sigtermCheckpointsTheStepReachedExits75AndTheRerunResumesWithTheSameLossCurve() throws Exception {
        Child straight = run(job("straight"), 0);
        assertThat(straight.code()).as(straight.output()).isZero();

        Child stopped = run(job("preempted"), 3);
        assertThat(stopped.code()).as(stopped.output()).isEqualTo(TrainerResult.PREEMPTED_EXIT_CODE);
        int k = stopped.steps().get(stopped.steps().size() - 1);
        assertThat(k).as("stopped mid-run, not at the end").isBetween(3, STEPS - 1);
        assertThat(stopped.steps()).as("every step once, in order").containsExactlyElementsOf(range(1, k));
        assertThat(stopped.output()).contains("stopped by SIGTERM after step " + k + "/" + STEPS)
                .contains("resumes at step " + (k + 1));
        Path out = dir.resolve("preempted-out");
        assertThat(Checkpoints.latest(out)).contains(out.resolve("checkpoints/step-" + k));
        assertThat(out.resolve("training_summary.json")).doesNotExist();

        Child resumed = run(job("preempted"), 0);
        assertThat(resumed.code()).as(resumed.output()).isZero();
        assertThat(resumed.output()).contains("resuming from").contains("(step " + k + "/" + STEPS + ")");
        assertThat(resumed.steps()).as("no step lost, none repeated").containsExactlyElementsOf(range(k + 1, STEPS));
        // Three JVMs: the losses before the stop were computed by another process than the straight run's, so the whole
        // curve is held to the resume bound (ResumeTolerance), none of it to the last bit.
        ResumeTolerance.assertContinues(lossCurve(out), lossCurve(dir.resolve("straight-out")), 0);
    }

    private static List<Integer> range(int from, int to) {
        List<Integer> l = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            l.add(i);
        }
        return l;
    }
}
