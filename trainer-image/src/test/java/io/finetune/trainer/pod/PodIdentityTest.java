package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Progress;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.failure.Failure;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FineTuneJob deleted and recreated under the same name: with another spec its pod refuses the predecessor's checkpoint
 * at the shared destination (naming the old uid), with the same spec it continues it; the uid on the pod template and the
 * one in the mounted job must agree.
 */
class PodIdentityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;

    @BeforeAll
    static void modelAndData() throws Exception {
        TinyModels.writeCharModel(dir.resolve("model"));
        TinyModels.writeReversalDataset(dir.resolve("train.jsonl"), 40);
    }

    static String job(String uid, int rank, int maxSteps) {
        return """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: recreated, namespace: ml, uid: %s}
                spec:
                  model: {source: "file://%s"}
                  dataset: {source: "file://%s", format: prompt-completion, evalFraction: 0.2, maxSeqLength: 32}
                  method:
                    type: LoRA
                    lora: {rank: %d, alpha: 8, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: %d, batchSize: 4, learningRate: 0.01, checkpointEverySteps: 2}
                  output: {destination: "file://%s"}
                """.formatted(uid, dir.resolve("model"), dir.resolve("train.jsonl"), rank, maxSteps, dir.resolve("out"));
    }

    static JsonNode runPod(String uid, int rank, int maxSteps, String pod) throws Exception {
        Path podDir = Files.createDirectories(dir.resolve(pod));
        Path config = Files.writeString(podDir.resolve("job.yaml"), job(uid, rank, maxSteps));
        Map<String, String> env = new HashMap<>();
        env.put("FINETUNE_CONFIG", config.toString());
        env.put("FINETUNE_JOB_NAME", "recreated");
        env.put("FINETUNE_JOB_NAMESPACE", "ml");
        env.put("FINETUNE_JOB_UID", uid);
        env.put("FINETUNE_SCRATCH", Files.createDirectories(podDir.resolve("scratch")).toString());
        env.put("FINETUNE_TERMINATION_LOG", podDir.resolve("termination-log").toString());
        StatusPatcher patcher = new StatusPatcher() {
            @Override
            public void patchProgress(Progress p) {
            }

            @Override
            public String target() {
                return "ml/recreated";
            }
        };
        PodRunner.run(env, PodRunner.inStorage(env), Failure::reasonOf, SecretRedactor.fromEnv(env),
                new PodRunner.Wiring(e -> patcher, e -> new InetSocketAddress("127.0.0.1", 0)));
        return JSON.readTree(podDir.resolve("termination-log").toFile());
    }

    @Test
    void aRecreatedJobWithAnotherSpecCannotPickUpItsPredecessorsCheckpoint() throws Exception {
        JsonNode first = runPod("uid-1", 4, 4, "pod-1");
        assertThat(first.path("outcome").asText()).as(first.toString()).isEqualTo("Succeeded");
        byte[] manifest = Files.readAllBytes(dir.resolve("out/manifest.json"));
        assertThat(Files.readString(dir.resolve("out/checkpoints/step-2/run_identity.json"))).contains("uid-1");

        JsonNode other = runPod("uid-2", 2, 4, "pod-2");
        assertThat(other.path("outcome").asText()).isEqualTo("Failed");
        assertThat(other.path("reason").asText()).isEqualTo("StorageError");
        assertThat(other.path("message").asText()).contains("holds the checkpoint/output of FineTuneJob ml/recreated (uid uid-1)")
                .contains("differs in: method").doesNotContain("--force-new");
        assertThat(Files.readAllBytes(dir.resolve("out/manifest.json"))).as("predecessor's artifact untouched").isEqualTo(manifest);

        JsonNode same = runPod("uid-3", 4, 4, "pod-3");
        assertThat(same.path("outcome").asText()).as(same.toString()).isEqualTo("Succeeded");
    }

    @Test
    void theUidOnThePodAndInTheMountedJobMustAgree() {
        FineTuneJob job = FineTuneJobManifest.parse(job("uid-a", 4, 4), "job.yaml");
        assertThat(PodEnvironment.jobUid(job, Map.of("FINETUNE_JOB_UID", "uid-a"))).isEqualTo("uid-a");
        assertThat(PodEnvironment.jobUid(job, Map.of())).isEqualTo("uid-a");
        assertThatThrownBy(() -> PodEnvironment.jobUid(job, Map.of("FINETUNE_JOB_UID", "uid-b")))
                .hasMessageContaining("metadata.uid uid-a but FINETUNE_JOB_UID is uid-b");
    }
}
