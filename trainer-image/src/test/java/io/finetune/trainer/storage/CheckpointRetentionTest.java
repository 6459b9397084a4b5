package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.PreflightResult;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.preflight.Preflight;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.train.TrainingHooks;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * spec.training.keepCheckpoints bounds what a run leaves behind (8 steps, a checkpoint every 2: step-2, -4 and -6 are
 * written, the newest two kept; S3JobRunSuite checks the same at S3 destinations), a pod killed between publishing a checkpoint and pruning the old ones loses nothing, and
 * the preflight finds the destination's checkpoints by listing, never by downloading them.
 */
class CheckpointRetentionTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Path data;
    static S3Server s3;

    @BeforeAll
    static void inputs() throws Exception {
        model = TinyModels.writeCharModel(tmp.resolve("model"));
        data = TinyModels.writeReversalDataset(tmp.resolve("data/train.jsonl"), 40);
        s3 = S3Server.get();
        s3.createBucket("keep");
    }

    static FineTuneJob job(String name, String destination, int keep) {
        return FineTuneJobManifest.parse("""
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: %s}
                spec:
                  model: {source: "file://%s"}
                  dataset: {source: "file://%s", format: prompt-completion, evalFraction: 0.2, maxSeqLength: 32}
                  method: {type: LoRA, lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}}
                  training: {maxSteps: 8, batchSize: 4, learningRate: 0.01, checkpointEverySteps: 2, logEverySteps: 4,
                             keepCheckpoints: %d}
                  output: {destination: "%s"}
                """.formatted(name, model, data, keep, destination), name + ".yaml");
    }

    static TrainingRun.Result run(FineTuneJob job, Storage storage, Path output, ByteArrayOutputStream log) throws Exception {
        return TestData.runJob(job, storage, output, new PrintStream(log, true), TrainingRun.AfterTraining.NONE);
    }

    /** step-N directory names under {@code prefix + "checkpoints/"} in the keep bucket that hold a manifest. */
    static Set<String> completeAtS3(String prefix) {
        Set<String> out = new TreeSet<>();
        for (var o : s3.admin.listObjectsV2(b -> b.bucket("keep").prefix(prefix + RunLayout.CHECKPOINTS + "/")).contents()) {
            String rest = o.key().substring((prefix + RunLayout.CHECKPOINTS + "/").length());
            RunLayout.checkpointFile(rest).filter(RunLayout.CheckpointFile::isManifest)
                    .ifPresent(c -> out.add(RunLayout.checkpointName(c.step())));
        }
        return out;
    }

    /** Every step-N directory name under {@code prefix + "checkpoints/"}, complete or not. */
    static Set<String> anyAtS3(String prefix) {
        Set<String> out = new TreeSet<>();
        for (var o : s3.admin.listObjectsV2(b -> b.bucket("keep").prefix(prefix + RunLayout.CHECKPOINTS + "/")).contents()) {
            String rest = o.key().substring((prefix + RunLayout.CHECKPOINTS + "/").length());
            RunLayout.checkpointFile(rest).ifPresent(c -> out.add(RunLayout.checkpointName(c.step())));
        }
        return out;
    }

    @Test
    void aLocalRunWithKeepCheckpoints2LeavesExactlyTwoAtItsFileDestination() throws Exception {
        Path out = tmp.resolve("local-keep");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Storage storage = Storage.create(tmp.resolve("cache-local"), TestData.env(s3.env()))) {
            TrainingRun.Result r = run(job("local-keep", "file://" + out, 2), storage, out, log);
            assertThat(r.summary().steps()).isEqualTo(8);
        }
        List<String> left;
        try (Stream<Path> s = Files.list(out.resolve(RunLayout.CHECKPOINTS))) {
            left = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(left).containsExactly("step-4", "step-6");
        assertThat(log.toString()).contains("pruned checkpoints step-2 (spec.training.keepCheckpoints 2)");
        assertThat(out.resolve(RunLayout.MANIFEST)).as("the artifact is never pruned").isRegularFile();
    }

    @Test
    void aCrashBetweenPublishingACheckpointAndPruningLosesNothingAndTheRerunCatchesUp() throws Exception {
        String dest = "s3://keep/crash/";
        FineTuneJob job = job("crash", dest, 2);
        job.getSpec().training.maxSteps = 10;   // checkpoints at 2, 4, 6 and 8
        RecordingStore store = new RecordingStore(S3Store.create(TestData.env(s3.env())));
        // killed right after step-6's manifest landed, at the first delete of the prune that follows it
        store.failDelete = uri -> uri.raw().endsWith("/checkpoints/step-2/" + RunLayout.MANIFEST)
                && store.uploads.stream().anyMatch(u -> u.endsWith("/checkpoints/step-6/" + RunLayout.MANIFEST));
        try (Storage storage = Storage.create(tmp.resolve("node-1/cache"), TestData.env(s3.env()))
                .withStore(Scheme.S3, store)) {
            assertThatThrownBy(() -> run(job, storage, tmp.resolve("node-1/output"), new ByteArrayOutputStream()))
                    .isInstanceOf(StorageException.class).hasMessageContaining("pod killed (test)");
        }
        assertThat(completeAtS3("crash/")).as("every published checkpoint is still complete")
                .containsExactly("step-2", "step-4", "step-6");

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Storage storage = Storage.create(tmp.resolve("node-2/cache"), TestData.env(s3.env()))) {
            TrainingRun.Result r = run(job, storage, tmp.resolve("node-2/output"), log);
            assertThat(r.summary().steps()).isEqualTo(10);
        }
        assertThat(log.toString()).contains("restored checkpoint step-6 from " + dest).contains("(step 6/10)")
                .contains("pruned checkpoints step-2, step-4");
        assertThat(anyAtS3("crash/")).as("the rerun's first prune catches up").containsExactly("step-6", "step-8");
        assertThat(completeAtS3("crash/")).containsExactly("step-6", "step-8");
    }

    @Test
    void thePreflightListsTheDestinationAndNeverDownloadsACheckpoint() throws Exception {
        String dest = "s3://keep/preflight/";
        Path ckpt = Files.createDirectories(tmp.resolve("pf/" + RunLayout.checkpointName(3)));
        Files.write(RunLayout.trainableIn(ckpt), TestData.bytes(200_000, 7));
        Files.write(RunLayout.optimizerIn(ckpt), TestData.bytes(400_000, 8));
        Files.writeString(RunLayout.trainerStateIn(ckpt), "{\"step\": 3, \"seed\": 42, \"losses\": [], \"evalLossBefore\": 1}");
        RecordingStore store = new RecordingStore(S3Store.create(TestData.env(s3.env())));
        try (Storage storage = Storage.create(tmp.resolve("pf/cache"), TestData.env(s3.env())).withStore(Scheme.S3, store)) {
            storage.publishCheckpoint(ckpt, dest);
            assertThat(storage.latestCheckpointStep(dest)).hasValue(3);
            store.downloads.clear();

            PreflightResult r = Preflight.check(RunSpecReader.read(job("pf", dest, 2)), storage, tmp.resolve("pf/scratch"), null,
                    "no GPU in this test");
            assertThat(r.passed()).as(r.message()).isTrue();
            assertThat(store.downloads).as("nothing of the destination is downloaded").isEmpty();

            PreflightResult wrong = Preflight.check(RunSpecReader.read(job("pf", "s3://no-such-bucket/x/", 2)), storage,
                    tmp.resolve("pf/scratch-2"), null, "no GPU in this test");
            assertThat(wrong.passed()).isFalse();
            assertThat(wrong.reason()).isEqualTo(PreflightResult.Reason.StorageError);
        }
    }
}
