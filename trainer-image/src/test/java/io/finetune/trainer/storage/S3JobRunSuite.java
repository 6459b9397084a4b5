package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.distributed.SingleProcessGroup;
import io.finetune.trainer.failure.Failure;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.pod.SecretRedactor;
import io.finetune.trainer.pod.TerminationLog;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.train.StopRequest;
import io.finetune.trainer.train.TrainingHooks;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * A whole training run with everything in S3 (each S3 implementation on 127.0.0.1, one subclass each): model directory and
 * dataset uploaded by the "user", the adapter published back with checkpoints under checkpoints/, the digest read back; a
 * second "node" with empty disks resuming from the published checkpoint to the same final loss; keepCheckpoints bounding
 * what stays at the destination; and a store that does not keep the adapter it acknowledged failing the job with a reason
 * instead of Succeeded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class S3JobRunSuite {
    private S3Server s3;
    /** Static so it exists in @BeforeAll; each subclass gets its own (JUnit sets it per test class). */
    @TempDir
    static Path tmp;

    abstract S3Server server() throws Exception;

    @BeforeAll
    void uploadModelAndData() throws Exception {
        s3 = server();
        s3.createBucket("models");
        s3.createBucket("datasets");
        s3.createBucket("artifacts");
        Path model = TinyModels.writeCharModel(tmp.resolve("model"));
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.toList()) {
                s3.admin.putObject(r -> r.bucket("models").key("tiny/" + f.getFileName()), RequestBody.fromFile(f));
            }
        }
        s3.admin.putObject(r -> r.bucket("datasets").key("rev/train.jsonl"),
                RequestBody.fromString(TinyModels.reversalDataset(40)));
    }

    static FineTuneJob job(String destination) {
        return FineTuneJobManifest.parse("""
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: s3-run
                spec:
                  model:
                    source: s3://models/tiny/
                    credentialsSecret: s3-creds
                  dataset:
                    source: s3://datasets/rev/train.jsonl
                    format: prompt-completion
                    evalFraction: 0.2
                    maxSeqLength: 32
                    credentialsSecret: s3-creds
                  method:
                    type: LoRA
                    lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: 4, batchSize: 4, learningRate: 0.01, checkpointEverySteps: 2, logEverySteps: 1}
                  output:
                    destination: %s
                    credentialsSecret: s3-creds
                """.formatted(destination), "s3-run.yaml");
    }

    private TrainingRun.Result run(FineTuneJob job, String node, ByteArrayOutputStream log) throws Exception {
        return run(job, node, log, s3.env());
    }

    private TrainingRun.Result run(FineTuneJob job, String node, ByteArrayOutputStream log, Map<String, String> env)
            throws Exception {
        try (Storage storage = Storage.create(tmp.resolve(node).resolve("cache"), TestData.env(env))) {
            return new TrainingRun(RunSpecReader.read(job), storage, tmp.resolve(node).resolve("output"),
                    TrainingRun.Options.DEFAULT, TrainingHooks.NONE, StopRequest.process(), new SingleProcessGroup(),
                    new PrintStream(log, true))
                    .run(TrainingRun.AfterTraining.NONE);
        }
    }

    @Test
    void tinyJobReadsModelAndDatasetFromS3AndPublishesTheAdapterWithItsDigest() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TrainingRun.Result r = run(job("s3://artifacts/s3-run/"), "node-a", log);

        assertThat(r.summary().steps()).isEqualTo(4);
        assertThat(r.summary().evalLossAfter()).isLessThan(r.summary().evalLossBefore());
        byte[] manifest = s3.admin.getObjectAsBytes(b -> b.bucket("artifacts").key("s3-run/manifest.json")).asByteArray();
        assertThat(r.artifact().digest()).isEqualTo(Manifest.digestOf(manifest)).matches("sha256:[0-9a-f]{64}");
        byte[] adapter = s3.admin.getObjectAsBytes(b -> b.bucket("artifacts").key("s3-run/adapter_model.safetensors"))
                .asByteArray();
        assertThat(r.artifact().files()).anySatisfy(e -> {
            assertThat(e.path()).isEqualTo("adapter_model.safetensors");
            assertThat(e.sizeBytes()).isEqualTo(adapter.length);
        });
        assertThat(r.artifact().files()).extracting(ManifestEntry::path)
                .contains("adapter_config.json", "training_summary.json").noneMatch(p -> p.startsWith("checkpoints/"));
        // The checkpoint went to the destination too, complete (with its own manifest).
        assertThat(s3.admin.listObjectsV2(b -> b.bucket("artifacts").prefix("s3-run/checkpoints/")).contents())
                .extracting(o -> o.key()).contains("s3-run/checkpoints/step-2/manifest.json",
                        "s3-run/checkpoints/step-2/trainable.safetensors", "s3-run/checkpoints/step-2/optimizer.safetensors");
        try (Storage reader = Storage.create(tmp.resolve("reader"), TestData.env(s3.env()))) {
            assertThat(reader.readArtifact("s3://artifacts/s3-run/").orElseThrow().digest()).isEqualTo(r.artifact().digest());
        }
    }

    @Test
    void aSecondNodeWithEmptyDisksResumesFromThePublishedCheckpointToTheSameLoss() throws Exception {
        TrainingRun.Result first = run(job("s3://artifacts/resume/"), "node-b", new ByteArrayOutputStream());
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TrainingRun.Result second = run(job("s3://artifacts/resume/"), "node-c", log);

        assertThat(log.toString()).contains("restored checkpoint step-2 from s3://artifacts/resume/")
                .contains("(step 2/4)").doesNotContain("step 1/4");
        assertThat(second.summary().trainLoss()).isCloseTo(first.summary().trainLoss(), within(1e-6));
        assertThat(second.summary().evalLossAfter()).isCloseTo(first.summary().evalLossAfter(), within(1e-6));
        assertThat(second.summary().lossCurve()).hasSize(4);
    }

    @Test
    void keepCheckpoints2LeavesExactlyTwoCompleteCheckpointsAtTheDestination() throws Exception {
        FineTuneJob job = job("s3://artifacts/keep-two/");
        job.getSpec().training.maxSteps = 8;   // checkpoints at 2, 4 and 6
        job.getSpec().training.keepCheckpoints = 2;
        run(job, "node-k", new ByteArrayOutputStream());

        var keys = s3.admin.listObjectsV2(b -> b.bucket("artifacts").prefix("keep-two/" + RunLayout.CHECKPOINTS + "/"))
                .contents().stream().map(o -> o.key().substring(("keep-two/" + RunLayout.CHECKPOINTS + "/").length()))
                .toList();
        assertThat(keys.stream().map(k -> k.substring(0, k.indexOf('/'))).distinct().sorted().toList())
                .containsExactly("step-4", "step-6");
        assertThat(keys).contains("step-4/" + RunLayout.MANIFEST, "step-6/" + RunLayout.MANIFEST);
        assertThat(s3.admin.getObjectAsBytes(b -> b.bucket("artifacts").key("keep-two/" + RunLayout.MANIFEST)).asByteArray())
                .as("the artifact is never pruned").isNotEmpty();
    }

    @Test
    void aStoreThatKeepsOnlyHalfOfTheAdapterFailsTheJobWithStorageErrorAndNoArtifact() throws Exception {
        try (S3FaultProxy proxy = new S3FaultProxy(s3)) {
            proxy.damageKeySuffix = "/adapter_model.safetensors";
            assertThatThrownBy(() -> run(job("s3://artifacts/corrupting/"), "node-d", new ByteArrayOutputStream(),
                    s3.env(proxy.endpoint())))
                    .isInstanceOfSatisfying(StorageException.class, e -> {
                        // What the pod writes to its termination log, which the operator records as the job's Reason
                        TrainerResult failed = new TerminationLog(tmp.resolve("termination-log"), SecretRedactor.fromEnv(
                                s3.env())).failure(Failure.reasonOf(e), e);
                        assertThat(failed.reason()).isEqualTo(TrainerResult.Reason.StorageError);
                        assertThat(failed.message()).startsWith("s3://artifacts/corrupting/adapter_model.safetensors: ")
                                .containsPattern("the store holds (\\d+) bytes but \\d+ bytes were uploaded");
                    });
        }
        assertThat(s3.admin.listObjectsV2(b -> b.bucket("artifacts").prefix("corrupting/")).contents())
                .extracting(o -> o.key()).contains("corrupting/adapter_model.safetensors")
                .doesNotContain("corrupting/manifest.json");
        try (Storage reader = Storage.create(tmp.resolve("reader-d"), TestData.env(s3.env()))) {
            assertThat(reader.readArtifact("s3://artifacts/corrupting/")).isEmpty();
        }
    }
}
