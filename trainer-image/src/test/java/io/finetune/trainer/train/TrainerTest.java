package io.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.SchedulerType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.ResumeTolerance;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.BatchSource;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.full.FullMethod;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.spec.EvaluationSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    Path dir;

    private static final List<Batch> DATA = TinyModels.countingBatches(6, 4, 16, 24, 11);

    static TrainingSpec spec(int steps) {
        TrainingSpec ts = new TrainingSpec();
        ts.maxSteps = steps;
        ts.learningRate = 5e-3;
        ts.warmupSteps = 2;
        ts.scheduler = SchedulerType.COSINE;
        ts.gradientAccumulationSteps = 2;
        ts.checkpointEverySteps = 4;
        ts.weightDecay = 0.01;
        ts.logEverySteps = 100;
        return ts;
    }

    static LoraMethod lora() {
        LoraSpec s = new LoraSpec();
        s.rank = 4;
        s.dropout = 0.1; // exercises the seeded dropout masks in the repeatability checks
        return LoraMethod.of(Specs.lora(s));
    }

    private TrainingSummary train(TrainingMethod method, TrainingSpec ts, Path out, Integer haltAfter) throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            method.attach(model, ts.seed);
            if (haltAfter == null) {
                return new Trainer(model, method, Specs.training(ts), new TrainingData(shuffled(), DATA.subList(0, 2), null),
                        out, TinyModels.quiet()).run();
            }
            // "killed" right after step haltAfter: a stop request read at that step's end checkpoints it, as SIGTERM would
            StopRequest kill = new StopRequest();
            TrainingHooks killAt = new TrainingHooks() {
                @Override
                public void stepDone(int done, double loss, double learningRate, long tokens) {
                    if (done == haltAfter) {
                        kill.request("test kill");
                    }
                }
            };
            Trainer t = new Trainer(model, method, Specs.training(ts), EvaluationSettings.NONE,
                    new TrainingData(shuffled(), DATA.subList(0, 2), null), out, TinyModels.quiet(), killAt, kill);
            org.assertj.core.api.Assertions.catchThrowableOfType(TrainingStoppedException.class, t::run);
            return null;
        }
    }

    /** Epoch order depends on (seed, epoch), as the real Batcher's does. */
    static BatchSource shuffled() {
        return new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return DATA.size();
            }

            @Override
            public List<Batch> epoch(long seed, int epoch) {
                List<Batch> l = new java.util.ArrayList<>(DATA);
                java.util.Collections.shuffle(l, new java.util.Random(seed * 31 + epoch));
                return l;
            }
        };
    }

    @Test
    void sameSeedGivesBitIdenticalLossCurveAndLossFalls() throws Exception {
        TrainingSummary a = train(lora(), spec(10), dir.resolve("a"), null);
        TrainingSummary b = train(lora(), spec(10), dir.resolve("b"), null);
        assertThat(b.lossCurve()).containsExactlyElementsOf(a.lossCurve());
        assertThat(a.evalLossAfter()).isLessThan(a.evalLossBefore() - 0.1);
        assertThat(a.trainableParameters()).isEqualTo(2 * (4 * (32 + 32) * 2 + 4 * (32 + 16) * 2 + 4 * (32 + 64) * 3));
        assertThat(a.optimizerStateBytes()).isEqualTo(2 * 4 * a.trainableParameters());
    }

    @Test
    void interruptedAndResumedRunEndsWithTheSameLoss() throws Exception {
        TrainingSummary straight = train(lora(), spec(10), dir.resolve("straight"), null);
        Path out = dir.resolve("resumed");
        assertThat(train(lora(), spec(10), out, 6)).isNull(); // "killed" after step 6 (checkpoint at 6)
        assertThat(Files.isDirectory(out.resolve("checkpoints/step-6"))).isTrue();
        TrainingSummary resumed = train(lora(), spec(10), out, null);
        // Bit-identical state, losses within float rounding (ResumeTolerance says why).
        ResumeTolerance.assertContinues(resumed.lossCurve(), straight.lossCurve(), 6);
        assertThat(resumed.evalLossAfter()).isCloseTo(straight.evalLossAfter(), ResumeTolerance.around(straight.evalLossAfter()));
    }

    @Test
    void stopRequestCheckpointsTheStepReachedAndTheResumeRepeatsNoStep() throws Exception {
        TrainingSummary straight = train(lora(), spec(10), dir.resolve("straight"), null);
        Path out = dir.resolve("stopped");
        StopRequest stop = new StopRequest();
        List<Integer> stepsSeen = new java.util.ArrayList<>();
        TrainingStoppedException stopped;
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod m = lora();
            m.attach(model, spec(10).seed);
            Trainer t = new Trainer(model, m, Specs.training(spec(10)), EvaluationSettings.NONE, new TrainingData(shuffled(), DATA.subList(0, 2), null), out, TinyModels.quiet(), new TrainingHooks() {
                @Override
                public void stepDone(int done, double loss, double learningRate, long tokens) {
                    stepsSeen.add(done);
                    if (done == 5) {
                        stop.request("SIGTERM"); // what the signal handler does, mid-way through step 5's bookkeeping
                    }
                }
            }, stop);

            stopped = org.assertj.core.api.Assertions.catchThrowableOfType(TrainingStoppedException.class, t::run);
        }
        // Step 5 is not a periodic checkpoint (every 4): the stop itself wrote it, and nothing ran past it.
        assertThat(stopped.step()).isEqualTo(5);
        assertThat(stopped.getMessage()).contains("stopped by SIGTERM after step 5/10").contains("resumes at step 6");
        assertThat(stepsSeen).containsExactly(1, 2, 3, 4, 5);
        assertThat(stopped.checkpoint()).isEqualTo(out.resolve("checkpoints/step-5"));
        assertThat(Checkpoints.readState(stopped.checkpoint()).losses()).containsExactlyElementsOf(straight.lossCurve().subList(0, 5));

        List<Integer> resumedSteps = new java.util.ArrayList<>();
        TrainingSummary resumed;
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod m = lora();
            m.attach(model, spec(10).seed);
            Trainer t = new Trainer(model, m, Specs.training(spec(10)), EvaluationSettings.NONE, new TrainingData(shuffled(), DATA.subList(0, 2), null), out, TinyModels.quiet(), new TrainingHooks() {
                @Override
                public void stepDone(int done, double loss, double learningRate, long tokens) {
                    resumedSteps.add(done);
                }
            }, new StopRequest());

            resumed = t.run();
        }
        assertThat(resumedSteps).containsExactly(6, 7, 8, 9, 10);
        ResumeTolerance.assertContinues(resumed.lossCurve(), straight.lossCurve(), 5);
        assertThat(resumed.trainLoss()).isCloseTo(straight.trainLoss(), ResumeTolerance.around(straight.trainLoss()));
        assertThat(resumed.evalLossAfter()).isCloseTo(straight.evalLossAfter(), ResumeTolerance.around(straight.evalLossAfter()));
    }

    @Test
    void stopRequestedBeforeTheFirstStepTrainsNothingAndSavesNothing() throws Exception {
        StopRequest stop = new StopRequest();
        stop.request("SIGTERM");
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod m = lora();
            m.attach(model, 1);
            Trainer t = new Trainer(model, m, Specs.training(spec(4)), EvaluationSettings.NONE, new TrainingData(shuffled(), List.of(), null), dir.resolve("early"), TinyModels.quiet(), TrainingHooks.NONE, stop);
            TrainingStoppedException e = org.assertj.core.api.Assertions.catchThrowableOfType(TrainingStoppedException.class, t::run);
            assertThat(e.step()).isZero();
            assertThat(e.checkpoint()).isNull();
            assertThat(e.getMessage()).contains("a new run starts at step 1");
        }
        assertThat(dir.resolve("early/checkpoints")).doesNotExist();
    }

    @Test
    void fullFineTuningTrainsEveryParameter() throws Exception {
        TrainingSummary s = train(new FullMethod(), spec(6), dir.resolve("full"), null);
        assertThat(s.trainableParameters()).isEqualTo(s.totalParameters());
        assertThat(s.evalLossAfter()).isLessThan(s.evalLossBefore());
    }

    @Test
    void liveNdArrayCountStaysFlatOver50Steps() throws Exception {
        try (NDManager root = NDManager.newBaseManager();
             LlamaModel model = LlamaModel.random(TinyModels.config(true), 1, root.newSubManager())) {
            LoraMethod m = lora();
            m.attach(model, 1);
            TrainingSpec ts = spec(50);
            ts.checkpointEverySteps = 0;
            ts.gradientAccumulationSteps = 1;
            Trainer t = new Trainer(model, m, Specs.training(ts), new TrainingData(shuffled(), List.of(), null), dir, TinyModels.quiet());
            int before = ((BaseNDManager) root).getManagedArrays().size();
            long[] counts = new long[50];
            for (int i = 0; i < 50; i++) {
                t.step(List.of(DATA.get(i % DATA.size())), 1e-3, i);
                counts[i] = ((BaseNDManager) root).getManagedArrays().size();
            }
            assertThat(counts[49]).isEqualTo(counts[1]);
            assertThat(counts[49] - before).as("only gradient buffers may appear after the first step").isLessThanOrEqualTo(0);
        }
    }

    @Test
    void nonFiniteLossStopsTheRunInsteadOfWritingAnArtifact() throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod m = lora();
            m.attach(model, 1);
            model.embedTokens().array().set(new ai.djl.ndarray.index.NDIndex(":"), Float.NaN);
            Trainer t = new Trainer(model, m, Specs.training(spec(4)), new TrainingData(shuffled(), List.of(), null), dir.resolve("nan"), TinyModels.quiet());
            org.assertj.core.api.Assertions.assertThatThrownBy(t::run)
                    .isInstanceOf(TrainingDivergedException.class)
                    .hasMessageContaining("loss is NaN at step 1/4");
            assertThat(dir.resolve("nan").resolve("adapter_model.safetensors")).doesNotExist();
        }
    }
}
