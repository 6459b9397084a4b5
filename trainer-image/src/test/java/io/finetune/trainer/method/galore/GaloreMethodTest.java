package io.finetune.trainer.method.galore;

import static io.finetune.trainer.method.MethodFixtures.galore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.SchedulerType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.ResumeTolerance;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TensorStorage;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.method.MethodFixtures;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.spec.EvaluationSettings;
import io.finetune.trainer.train.Checkpoints;
import io.finetune.trainer.train.StopRequest;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import io.finetune.trainer.train.TrainingHooks;
import io.finetune.trainer.train.TrainingSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
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
        // The state comes back bit for bit (resumeRestoresEveryCheckpointedTensorBitForBit); the losses within float rounding.
        ResumeTolerance.assertContinues(second.lossCurve(), full.lossCurve(), 4);
        assertThat(second.trainLoss()).isCloseTo(full.trainLoss(), ResumeTolerance.around(full.trainLoss()));
        assertThat(second.evalLossAfter()).isCloseTo(full.evalLossAfter(), ResumeTolerance.around(full.evalLossAfter()));
    }

    @Test
    void resumeRestoresEveryCheckpointedTensorBitForBit() throws Exception {
        Path out = dir.resolve("run");
        run(out, training(8, 4));
        Path step4 = out.resolve("checkpoints/step-4");
        Map<String, FloatTensor> savedOptimizer = Checkpoints.readTensors(step4.resolve("optimizer.safetensors"));
        Map<String, FloatTensor> savedWeights = Checkpoints.readTensors(step4.resolve("trainable.safetensors"));
        assertThat(savedOptimizer.get("step").data()).containsExactly(4f);
        assertThat(savedOptimizer.keySet().stream().filter(k -> k.endsWith(".galore_projector")))
                .as("a projector per targeted matrix").hasSize(14);

        Map<String, FloatTensor> restoredOptimizer = new LinkedHashMap<>();
        Map<String, FloatTensor> restoredWeights = new LinkedHashMap<>();
        List<Integer> misaligned = new ArrayList<>();
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 3, NDManager.newBaseManager())) {
            GaloreMethod method = new GaloreMethod(Specs.galore(galore(List.of("self_attn", "mlp"))));
            TrainingSpec ts = training(5, 0);
            method.attach(model, ts.seed);
            Path resumed = dir.resolve("resumed");
            copy(step4, resumed.resolve("checkpoints/step-4"));
            java.util.concurrent.atomic.AtomicReference<Trainer> self = new java.util.concurrent.atomic.AtomicReference<>();
            TrainingHooks capture = new TrainingHooks() {
                @Override
                public void started(int startStep, int totalSteps, double stepsPerEpoch) {
                    // Called after the restore, before the first resumed step.
                    restoredOptimizer.putAll(self.get().optimizer().state());
                    for (Parameter p : method.trainableParameters(model)) {
                        restoredWeights.put(p.name(), FloatTensor.of(p.array()));
                        misaligned.add(TensorStorage.offsetFrom64ByteBoundary(p.array()));
                    }
                }
            };
            Trainer trainer = new Trainer(model, method, Specs.training(ts), EvaluationSettings.NONE,
                    new TrainingData(TinyModels.fixed(DATA), DATA.subList(0, 1), null), resumed, TinyModels.quiet(), capture,
                    StopRequest.process());
            self.set(trainer);
            trainer.run();
        }
        assertBitForBit("optimizer state", restoredOptimizer, savedOptimizer);
        assertBitForBit("weights", restoredWeights, savedWeights);
        assertThat(misaligned).as("restored weights stay in libtorch's own (64-byte aligned) storage").containsOnly(0);
    }

    /** The bounds above are not trivially met: a checkpoint that lost a piece of GaLore's state misses them by far. */
    @Test
    void aCheckpointThatDroppedStateFailsTheseBounds() throws Exception {
        Path straight = dir.resolve("straight");
        TrainingSummary full = run(straight, training(8, 4));
        Path step4 = straight.resolve("checkpoints/step-4");
        Map<String, FloatTensor> optimizer = Checkpoints.readTensors(step4.resolve("optimizer.safetensors"));
        Map<String, Map<String, FloatTensor>> broken = new LinkedHashMap<>();
        broken.put("without the projectors", filter(optimizer, k -> !k.endsWith(".galore_projector")));
        Map<String, FloatTensor> zeroed = new LinkedHashMap<>(optimizer);
        zeroed.replaceAll((k, t) -> k.endsWith(".exp_avg") ? new FloatTensor(t.shape(), new float[t.data().length]) : t);
        broken.put("with zeroed first moments", zeroed);
        Map<String, FloatTensor> restarted = new LinkedHashMap<>(optimizer);
        restarted.put("step", new FloatTensor(new long[] {1}, new float[] {0}));
        broken.put("with the step counter at 0", restarted);
        for (var b : broken.entrySet()) {
            Path resumed = dir.resolve("resumed-" + broken.size() + "-" + b.getKey().hashCode());
            copy(step4, resumed.resolve("checkpoints/step-4"));
            SafetensorsWriter.write(resumed.resolve("checkpoints/step-4/optimizer.safetensors"), b.getValue());
            TrainingSummary second = run(resumed, training(8, 4));
            double relative = Math.abs(second.trainLoss() - full.trainLoss()) / Math.abs(full.trainLoss());
            System.out.printf("resume %s: relative loss difference %.3e%n", b.getKey(), relative);
            assertThat(relative).as("a resume %s differs from the uninterrupted run", b.getKey())
                    .isGreaterThan(10 * ResumeTolerance.RELATIVE);
        }
    }

    private static Map<String, FloatTensor> filter(Map<String, FloatTensor> tensors, Predicate<String> keep) {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (keep.test(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    private static void assertBitForBit(String what, Map<String, FloatTensor> actual, Map<String, FloatTensor> expected) {
        assertThat(actual.keySet()).as(what).containsExactlyInAnyOrderElementsOf(expected.keySet());
        for (String k : expected.keySet()) {
            assertThat(actual.get(k).shape()).as("%s %s shape", what, k).containsExactly(expected.get(k).shape());
            float[] a = actual.get(k).data();
            float[] e = expected.get(k).data();
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(e[i])) {
                    throw new AssertionError(what + " " + k + "[" + i + "]: restored " + a[i] + ", saved " + e[i]);
                }
            }
        }
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
