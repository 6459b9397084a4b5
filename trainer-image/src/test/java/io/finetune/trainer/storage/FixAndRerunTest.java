package io.finetune.trainer.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.train.TrainingHooks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The loop of a new user: a run fails on a bad input, the user fixes it and runs the same job again, which trains without
 * --force-new, because the failed run left its outputs exactly as it found them: no run_identity.json, no directory it
 * created, no object at an S3 destination (its write probe is deleted again).
 */
class FixAndRerunTest {
    @TempDir
    static Path tmp;
    static S3Server s3;

    /** Where the run writes. */
    enum Destination { FILE_IN_PLACE, FILE_ELSEWHERE, S3 }

    /** One bad input: how to break it, the words of the error, how to fix it. */
    enum BadInput { DATASET_LINE, MODEL_FILE, RANK_TOO_LARGE }

    @BeforeAll
    static void server() throws Exception {
        s3 = S3Server.get();
        s3.createBucket("rerun");
    }

    static List<Arguments> cases() {
        return Arrays.stream(Destination.values())
                .flatMap(d -> Arrays.stream(BadInput.values()).map(b -> Arguments.of(d, b))).toList();
    }

    private record Case(Path model, Path data, Path work, String destination, Path localDestination) {
    }

    private static Case prepare(String name, Destination d, BadInput bad) throws Exception {
        Path dir = tmp.resolve(name + "-" + d + "-" + bad);
        Path model = TinyModels.writeCharModel(dir.resolve("model"));
        Path data = TinyModels.writeReversalDataset(dir.resolve("data/train.jsonl"), 40);
        if (bad == BadInput.DATASET_LINE) {
            Files.writeString(data, TinyModels.reversalDataset(40) + "{\"prompt\": \"1=\",\n");
        }
        if (bad == BadInput.MODEL_FILE) {
            byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
            Files.write(model.resolve("model.safetensors"), Arrays.copyOf(weights, weights.length / 2));
        }
        return switch (d) {
            case FILE_IN_PLACE -> new Case(model, data, dir.resolve("out"), "file://" + dir.resolve("out"), dir.resolve("out"));
            case FILE_ELSEWHERE -> new Case(model, data, dir.resolve("scratch/output"), "file://" + dir.resolve("dest/run"),
                    dir.resolve("dest/run"));
            case S3 -> new Case(model, data, dir.resolve("scratch/output"), "s3://rerun/" + name + "-" + bad + "/", null);
        };
    }

    private static void fix(Case c, BadInput bad) throws Exception {
        switch (bad) {
            case DATASET_LINE -> TinyModels.writeReversalDataset(c.data(), 40);
            case MODEL_FILE -> TinyModels.writeCharModel(c.model());
            case RANK_TOO_LARGE -> { }   // the rerun's spec says rank 4
        }
    }

    static FineTuneJob job(Case c, int rank) {
        return FineTuneJobManifest.parse("""
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata: {name: rerun}
                spec:
                  model: {source: "file://%s"}
                  dataset: {source: "file://%s", format: prompt-completion, evalFraction: 0.2, maxSeqLength: 32}
                  method: {type: LoRA, lora: {rank: %d, alpha: 8, targetModules: [q_proj, v_proj]}}
                  training: {maxSteps: 2, batchSize: 4, learningRate: 0.01, checkpointEverySteps: 1, logEverySteps: 1}
                  output: {destination: "%s"}
                """.formatted(c.model(), c.data(), rank, c.destination()), "rerun.yaml");
    }

    private static TrainingRun.Result run(FineTuneJob job, Case c, String node) throws Exception {
        try (Storage storage = Storage.create(c.work().getParent().resolve(node + "-cache"), TestData.env(s3.env()))) {
            return TestData.runJob(job, storage, c.work(), new PrintStream(new ByteArrayOutputStream(), true), TrainingRun.AfterTraining.NONE);
        }
    }

    private static List<String> s3Keys(String prefix) {
        return s3.admin.listObjectsV2(b -> b.bucket("rerun").prefix(prefix)).contents().stream().map(o -> o.key()).toList();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void aFailedRunClaimsNothingAndTheFixedRerunTrainsWithoutForceNew(Destination d, BadInput bad) throws Exception {
        Case c = prepare("rerun", d, bad);
        String error = switch (bad) {
            case DATASET_LINE -> "train.jsonl";
            case MODEL_FILE -> "model.safetensors";
            case RANK_TOO_LARGE -> "spec.method.lora.rank 16 is not below min(in, out)";
        };
        assertThatThrownBy(() -> run(job(c, bad == BadInput.RANK_TOO_LARGE ? 16 : 4), c, "first"))
                .hasMessageContaining(error);
        assertThat(c.work()).as("the work directory the run created is removed again").doesNotExist();
        if (c.localDestination() != null) {
            assertThat(c.localDestination()).as("the destination directory the run created is removed again").doesNotExist();
        } else {
            assertThat(s3Keys("rerun-" + bad + "/")).as("nothing at the S3 destination").isEmpty();
        }

        fix(c, bad);
        TrainingRun.Result r = run(job(c, 4), c, "second");
        assertThat(r.summary().steps()).isEqualTo(2);
        if (c.localDestination() != null) {
            assertThat(c.localDestination().resolve(RunLayout.MANIFEST)).isRegularFile();
            assertThat(c.localDestination().resolve(RunLayout.RUN_IDENTITY)).isRegularFile();
        } else {
            String prefix = "rerun-" + bad + "/";
            assertThat(s3Keys(prefix)).contains(prefix + RunLayout.MANIFEST, prefix + RunLayout.RUN_IDENTITY);
        }
    }

    @Test
    void aRunThatFailsAfterWritingItsOutputMarksItAsItsOwnAndTheRerunIsNotRefused() throws Exception {
        Case c = prepare("late", Destination.FILE_IN_PLACE, BadInput.RANK_TOO_LARGE);
        FineTuneJob job = job(c, 4);
        job.getSpec().training.checkpointEverySteps = 0;   // no checkpoint carries the marker: only the root one can
        try (Storage storage = Storage.create(c.work().getParent().resolve("late-cache"), TestData.env(s3.env()))) {
            assertThatThrownBy(() -> TestData.runJob(job, storage, c.work(), new PrintStream(new ByteArrayOutputStream(), true), (model, tokenizer) -> {
                        throw new IOException("sampling failed (test)");
                    })).hasMessageContaining("sampling failed (test)");
        }
        assertThat(c.work().resolve("adapter_model.safetensors")).as("the output written before the failure").isRegularFile();
        assertThat(c.work().resolve(RunLayout.RUN_IDENTITY)).as("is marked as this run's").isRegularFile();
        TrainingRun.Result r = run(job, c, "again");
        assertThat(r.summary().steps()).isEqualTo(2);
    }

    @Test
    void anOutputDirectoryThatExistedBeforeTheFailedRunStaysEmpty() throws Exception {
        Case c = prepare("existing", Destination.FILE_IN_PLACE, BadInput.DATASET_LINE);
        Files.createDirectories(c.work());
        assertThatThrownBy(() -> run(job(c, 4), c, "first")).hasMessageContaining("train.jsonl");
        assertThat(c.work()).isDirectory();
        try (Stream<Path> s = Files.list(c.work())) {
            assertThat(s.toList()).as("the failed run left nothing in it").isEmpty();
        }
    }
}
