package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Progress;
import io.finetune.trainer.train.TrainingStoppedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole pod mode around a stand-in training function: exactly one termination message, whatever happens. */
class PodRunnerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HF = "hf_abcdefghijklmnopqrstuvwxyz0123";

    @TempDir
    Path dir;

    private final List<Progress> patched = new CopyOnWriteArrayList<>();
    private Map<String, String> env;
    private Path terminationLog;

    /** Stand-in for the trainer's DatasetException (package io.finetune.trainer.data, not on this branch). */
    static final class BadRecord extends RuntimeException {
        BadRecord(String message) {
            super(message);
        }
    }

    private final Function<Throwable, TrainerResult.Reason> classify =
            e -> e instanceof BadRecord ? TrainerResult.Reason.InvalidDataset : TrainerResult.Reason.TrainerError;

    @BeforeEach
    void podEnvironment() throws IOException {
        Path config = Files.writeString(dir.resolve("job.yaml"), PodEnvironmentTest.jobYaml("llama-lora", "team-a"));
        terminationLog = dir.resolve("termination-log");
        env = new HashMap<>();
        env.put("FINETUNE_CONFIG", config.toString());
        env.put("FINETUNE_JOB_NAME", "llama-lora");
        env.put("FINETUNE_JOB_NAMESPACE", "team-a");
        env.put("FINETUNE_SCRATCH", dir.toString());
        env.put("FINETUNE_TERMINATION_LOG", terminationLog.toString());
        env.put("FINETUNE_PROGRESS_INTERVAL_SECONDS", "0.05");
        env.put("HF_TOKEN", HF);
    }

    @Test
    void successfulRunReportsEveryStepsFinalProgressAndWritesTheArtifact() throws IOException {
        int exit = run((job, podEnv, progress) -> {
            assertThat(job.getMetadata().getName()).isEqualTo("llama-lora");
            for (int step = 1; step <= 20; step++) {
                progress.report(new TrainingProgress(step, 20, step / 20.0, 3.0 - step * 0.1, 1e-4, 500, null).toProgress());
            }
            return TrainerResult.succeeded(TerminationLogTest.artifact(), TerminationLogTest.metrics(), null, 20);
        });

        assertThat(exit).isZero();
        JsonNode result = JSON.readTree(Files.readString(terminationLog));
        assertThat(result.get("outcome").asText()).isEqualTo("Succeeded");
        assertThat(result.at("/artifact/uri").asText()).isEqualTo("s3://team-bucket/adapters/llama-lora");
        assertThat(result.get("steps").asLong()).isEqualTo(20);
        assertThat(patched).isNotEmpty();
        assertThat(patched.get(patched.size() - 1).summary).as("the final progress is always sent").isEqualTo("20/20");
    }

    @Test
    void aClassifiedFailureBecomesItsReasonWithARedactedOneLineMessage() throws IOException {
        int exit = run((job, podEnv, progress) -> {
            throw new BadRecord("train.jsonl:3: expected a JSON object\n(token " + HF + ")");
        });

        assertThat(exit).isEqualTo(1);
        JsonNode result = JSON.readTree(Files.readString(terminationLog));
        assertThat(result.get("outcome").asText()).isEqualTo("Failed");
        assertThat(result.get("reason").asText()).isEqualTo("InvalidDataset");
        assertThat(result.get("message").asText()).isEqualTo("train.jsonl:3: expected a JSON object (token <redacted:HF_TOKEN>)");
    }

    @Test
    void aStopOnSigtermExits75WithReasonPreemptedTheStepReachedAndItsLastProgress() throws IOException {
        int exit = run((job, podEnv, progress) -> {
            for (int step = 1; step <= 7; step++) {
                progress.report(new TrainingProgress(step, 20, step / 20.0, 3.0 - step * 0.1, 1e-4, 500, null).toProgress());
            }
            throw new TrainingStoppedException(7, 20, Path.of("/scratch/output/checkpoints/step-7"), "SIGTERM");
        });

        assertThat(exit).isEqualTo(TrainerResult.PREEMPTED_EXIT_CODE).isEqualTo(75);
        JsonNode result = JSON.readTree(Files.readString(terminationLog));
        assertThat(result.get("reason").asText()).isEqualTo("Preempted");
        assertThat(result.get("steps").asLong()).isEqualTo(7);
        assertThat(result.get("message").asText()).isEqualTo(
                "stopped by SIGTERM after step 7/20; checkpoint step-7 saved, a new run resumes at step 8");
        assertThat(patched.get(patched.size() - 1).summary).as("progress is flushed before the exit").isEqualTo("7/20");
    }

    @Test
    void outOfMemoryIsRecognisedEvenWhenWrapped() throws IOException {
        run((job, podEnv, progress) -> {
            throw new UncheckedIOException("step 12 failed", new IOException(
                    "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried to allocate 4 GB"));
        });
        assertThat(JSON.readTree(Files.readString(terminationLog)).get("reason").asText()).isEqualTo("OutOfMemory");

        run((job, podEnv, progress) -> {
            throw new OutOfMemoryError("Java heap space");
        });
        JsonNode result = JSON.readTree(Files.readString(terminationLog));
        assertThat(result.get("reason").asText()).isEqualTo("OutOfMemory");
        assertThat(result.get("message").asText()).isEqualTo("OutOfMemoryError: Java heap space");
    }

    @Test
    void aBrokenEnvironmentStillWritesATerminationMessageNamingTheVariable() throws IOException {
        env.remove("FINETUNE_JOB_NAMESPACE");
        boolean[] trained = {false};
        int exit = run((job, podEnv, progress) -> {
            trained[0] = true;
            return null;
        });

        assertThat(exit).isEqualTo(1);
        assertThat(trained[0]).isFalse();
        JsonNode result = JSON.readTree(Files.readString(terminationLog));
        assertThat(result.get("reason").asText()).isEqualTo("TrainerError");
        assertThat(result.get("message").asText()).contains("FINETUNE_JOB_NAMESPACE is not set");
        assertThat(patched).isEmpty();
    }

    @Test
    void aTrainerThatReturnsNothingIsAFailureNotASuccess() throws IOException {
        int exit = run((job, podEnv, progress) -> null);
        assertThat(exit).isEqualTo(1);
        assertThat(Files.readString(terminationLog)).contains("trainer finished without a result");
    }

    @Test
    void aKubernetesClientThatCannotBeCreatedDoesNotStopTraining() throws IOException {
        PodRunner.Wiring broken = new PodRunner.Wiring(e -> {
            throw new IllegalStateException("no service account token");
        }, e -> new InetSocketAddress("127.0.0.1", 0));
        int exit = PodRunner.run(env, (job, podEnv, progress) -> {
            progress.report(new TrainingProgress(1, 1, 1, 1, 1, 1, null).toProgress());
            return TrainerResult.succeeded(TerminationLogTest.artifact(), null, null, 1);
        }, classify, SecretRedactor.fromEnv(env), broken);
        assertThat(exit).isZero();
        assertThat(Files.readString(terminationLog)).contains("\"outcome\":\"Succeeded\"");
    }

    private int run(PodRunner.Training training) {
        StatusPatcher recording = new StatusPatcher() {
            @Override
            public void patchProgress(Progress progress) {
                patched.add(progress);
            }

            @Override
            public String target() {
                return "FineTuneJob team-a/llama-lora";
            }
        };
        PodRunner.Wiring wiring = new PodRunner.Wiring(e -> recording, e -> new InetSocketAddress("127.0.0.1", 0));
        return PodRunner.run(env, training, classify, SecretRedactor.fromEnv(env), wiring);
    }

    @Test
    void progressIntervalComesFromTheEnvironment() {
        assertThat(PodEnvironment.fromEnv(env).progressInterval()).isEqualTo(Duration.ofMillis(50));
    }
}
