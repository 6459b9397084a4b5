package io.finetune.trainer.method.galore;

import static io.finetune.trainer.method.MethodFixtures.galore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.SchedulerType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.io.ModelWeights;
import io.finetune.trainer.method.MethodFixtures;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import io.finetune.trainer.train.TrainingSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GaloreMethodTest {
    @TempDir
    Path dir;

    private static final List<Batch> DATA = TinyModels.countingBatches(4, 4, 16, 24, 11);

    static TrainingSpec training(int steps, int checkpointEvery) {
        TrainingSpec ts = new TrainingSpec();
        ts.maxSteps = steps;
        ts.learningRate = 1e-2;
        ts.warmupSteps = 2;
        ts.scheduler = SchedulerType.COSINE;
        ts.checkpointEverySteps = checkpointEvery;
        ts.weightDecay = 0.01;
        ts.logEverySteps = 1000;
        return ts;
    }

    @Test
    void pretrainsARandomModelAndWritesAModelAnotherJobCanLoad() throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 3, NDManager.newBaseManager())) {
            GaloreMethod method = new GaloreMethod(Specs.galore(galore(List.of("all-linear"))));
            method.attach(model, 42);
            assertThat(method.targetedModules()).hasSize(14).doesNotContain("lm_head");
            assertThat(method.trainableParameters(model)).hasSize(model.allParameters().size());
            Trainer trainer = new Trainer(model, method, Specs.training(training(40, 0)), new TrainingData(TinyModels.fixed(DATA), DATA, null), dir.resolve("run"), TinyModels.quiet());
            TrainingSummary s = trainer.run();
            assertThat(((GaloreOptimizer) trainer.optimizer()).projectedMatrices()).isEqualTo(14);
            // From random init (ln 20 ~ 3.0) the counting pattern is learnt: a real drop, not noise.
            assertThat(s.evalLossAfter()).isLessThan(s.evalLossBefore() - 1.0);

            Path out = dir.resolve("out");
            method.saveOutput(model, OutputTarget.of(out, "random-init"));
            model.config().write(out, 1, 2);
            assertThat(out.resolve(ModelWeights.SINGLE)).exists();
            Batch probe = TinyModels.batch(4, 24);
            try (LlamaModel reloaded = LlamaModel.load(out, NDManager.newBaseManager())) {
                assertThat(MethodFixtures.logits(reloaded, probe)).containsExactly(MethodFixtures.logits(model, probe));
            }
        }
    }

    @Test
    void resumedRunEndsWithTheSameLossAsAnUninterruptedOne() throws Exception {
        Path straight = dir.resolve("straight");
        TrainingSummary full = run(straight, training(8, 4));
        // The straight run left checkpoints/step-4 (projectors, compact moments, weights); resume a fresh process from it.
        Path resumed = dir.resolve("resumed");
        copy(straight.resolve("checkpoints"), resumed.resolve("checkpoints"));
        TrainingSummary second = run(resumed, training(8, 4));
        assertThat(second.lossCurve()).hasSize(8);
        assertThat(second.trainLoss()).isEqualTo(full.trainLoss());
        assertThat(second.evalLossAfter()).isEqualTo(full.evalLossAfter());
    }

    private static TrainingSummary run(Path out, TrainingSpec ts) throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 3, NDManager.newBaseManager())) {
            GaloreMethod method = new GaloreMethod(Specs.galore(galore(List.of("self_attn", "mlp"))));
            method.attach(model, ts.seed);
            return new Trainer(model, method, Specs.training(ts), new TrainingData(TinyModels.fixed(DATA), DATA.subList(0, 1), null), out, TinyModels.quiet()).run();
        }
    }

    private static void copy(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void targetsThatMatchNothingAreAClearError() {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 3, NDManager.newBaseManager())) {
            assertThatThrownBy(() -> new GaloreMethod(Specs.galore(galore(List.of("c_attn")))).attach(model, 1))
                    .hasMessageContaining("spec.method.galore.targetModules").hasMessageContaining("c_attn");
        }
    }
}
