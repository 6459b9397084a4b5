package io.finetune.trainer.precision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.api.v1alpha1.Precision;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.full.FullMethod;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.train.MeasuredMemory;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import io.finetune.trainer.train.TrainingSummary;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixed precision on the CPU (libtorch computes bf16 and fp16 there too): the same tiny run in fp32 and in 16 bits, same
 * seed and data. Tolerance: every step's loss within 0.01 of fp32's (losses are ~2-3; bf16 keeps 8 significant bits, so
 * one rounding is ~0.4% of a value, and the loss averages many of them); a 16-bit run that silently computed in fp32 would match fp32 bit for bit, so the curves must
 * also differ.
 */
class MixedPrecisionTest {
    private static final double LOSS_TOLERANCE = 0.01;
    private static final int STEPS = 12;
    private static final List<Batch> DATA = TinyModels.countingBatches(4, 4, 16, 24, 7);

    @TempDir
    Path dir;

    private static TrainingSpec spec() {
        TrainingSpec ts = new TrainingSpec();
        ts.maxSteps = STEPS;
        ts.learningRate = 5e-3;
        ts.warmupSteps = 2;
        ts.checkpointEverySteps = 0;
        ts.logEverySteps = 1000;
        return ts;
    }

    private static LoraMethod lora() {
        LoraSpec s = new LoraSpec();
        s.rank = 4;
        s.dropout = 0.0;
        s.targetModules = List.of("all-linear");
        return LoraMethod.of(Specs.lora(s));
    }

    record Run(TrainingSummary summary, Trainer trainer) {
    }

    private Run train(Supplier<TrainingMethod> methods, ComputePrecision precision, Checks checks) throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            TrainingMethod method = methods.get();
            method.attach(model, 1);
            model.usePrecision(precision);
            Trainer t = new Trainer(model, method, Specs.training(spec()), new TrainingData(TinyModels.fixed(DATA), DATA.subList(0, 2), null), dir.resolve(precision + "-" + System.nanoTime()), TinyModels.quiet());
            TrainingSummary s = t.run();
            checks.check(model, method);
            return new Run(s, t);
        }
    }

    interface Checks {
        void check(LlamaModel model, TrainingMethod method) throws Exception;
    }

    private static void assertTracks(List<Double> half, List<Double> fp32) {
        assertThat(half).hasSameSizeAs(fp32);
        double worst = 0;
        for (int i = 0; i < fp32.size(); i++) {
            worst = Math.max(worst, Math.abs(half.get(i) - fp32.get(i)));
        }
        System.out.printf("16-bit vs fp32: largest per-step loss difference %.5f over %d steps (fp32 %.4f -> %.4f)%n", worst,
                fp32.size(), fp32.get(0), fp32.get(fp32.size() - 1));
        for (int i = 0; i < fp32.size(); i++) {
            assertThat(half.get(i)).as("step %d loss", i + 1).isCloseTo(fp32.get(i), within(LOSS_TOLERANCE));
        }
        assertThat(half).as("a 16-bit run computes differently from fp32").isNotEqualTo(fp32);
        assertThat(half.get(half.size() - 1)).as("and still learns").isLessThan(half.get(0) - 0.1);
    }

    @Test
    void bf16LoraHoldsTheFrozenBaseIn16BitsTrainsFp32AdaptersAndTracksFp32() throws Exception {
        Run fp32 = train(MixedPrecisionTest::lora, ComputePrecision.FP32, (m, meth) -> { });
        Run bf16 = train(MixedPrecisionTest::lora, ComputePrecision.BF16, (model, method) -> {
            long frozen2d = 0;
            long fp32Values = 0;
            for (Parameter p : model.baseParameters().values()) {
                if (p.array().getShape().dimension() == 2) {
                    assertThat(p.array().getDataType()).as(p.name() + " held in bf16 (DJL: UNKNOWN)").isEqualTo(DataType.UNKNOWN);
                    assertThat(HalfOps.storageBytes(p.array())).as(p.name()).isEqualTo(2 * p.numel());
                    frozen2d += p.numel();
                } else {
                    assertThat(p.array().getDataType()).as(p.name() + " (norm) stays fp32").isEqualTo(DataType.FLOAT32);
                    fp32Values += p.numel();
                }
            }
            for (Parameter p : method.trainableParameters(model)) {
                assertThat(p.array().getDataType()).as(p.name() + " trainable, fp32").isEqualTo(DataType.FLOAT32);
                try (NDArray g = p.array().getGradient()) {
                    assertThat(g.getDataType()).as(p.name() + " gradient").isEqualTo(DataType.FLOAT32);
                }
                fp32Values += p.numel();
            }
            MeasuredMemory mem = io.finetune.trainer.train.MemoryAccounting.measure(model, method.trainableParameters(model),
                    new Trainer(model, method, Specs.training(spec()), new TrainingData(TinyModels.fixed(DATA), DATA, null), dir, TinyModels.quiet()).optimizer());
            assertThat(mem.weightBytes()).isEqualTo(2 * frozen2d + 4 * fp32Values);
        });
        assertTracks(bf16.summary().lossCurve(), fp32.summary().lossCurve());
        assertThat(bf16.summary().evalLossAfter()).isCloseTo(fp32.summary().evalLossAfter(), within(LOSS_TOLERANCE));
        assertThat(bf16.summary().execution().precision()).as("the precision that ran").isEqualTo(Precision.BF16);
        assertThat(fp32.summary().execution().precision()).isEqualTo(Precision.FP32);
        assertThat(bf16.summary().execution().device()).isEqualTo("cpu()");
        assertThat(bf16.summary().memory().weightBytes()).as("half the frozen weight memory")
                .isLessThan(fp32.summary().memory().weightBytes() * 6 / 10);
        assertThat(bf16.summary().memory().optimizerStateBytes()).isEqualTo(fp32.summary().memory().optimizerStateBytes());
        assertThat(bf16.trainer().lossScaler()).as("bf16 needs no loss scaling").isNull();
    }

    @Test
    void bf16FullKeepsFp32MasterWeightsAndTracksFp32() throws Exception {
        Run fp32 = train(FullMethod::new, ComputePrecision.FP32, (m, meth) -> { });
        Run bf16 = train(FullMethod::new, ComputePrecision.BF16, (model, method) -> {
            for (Parameter p : model.allParameters()) {
                assertThat(p.array().getDataType()).as(p.name() + ": every weight trains, fp32 master")
                        .isEqualTo(DataType.FLOAT32);
            }
        });
        assertTracks(bf16.summary().lossCurve(), fp32.summary().lossCurve());
        assertThat(bf16.summary().memory().weightBytes()).isEqualTo(fp32.summary().memory().weightBytes());
    }

    @Test
    void fp16LoraUsesDynamicLossScalingAndTracksFp32() throws Exception {
        Run fp32 = train(MixedPrecisionTest::lora, ComputePrecision.FP32, (m, meth) -> { });
        Run fp16 = train(MixedPrecisionTest::lora, ComputePrecision.FP16, (model, method) -> {
            Linear q = model.linears().get(0);
            assertThat(q.weight().array().getDataType()).as("frozen base held in fp16").isEqualTo(DataType.FLOAT16);
        });
        assertTracks(fp16.summary().lossCurve(), fp32.summary().lossCurve());
        LossScaler scaler = fp16.trainer().lossScaler();
        assertThat(scaler).isNotNull();
        assertThat(scaler.skippedSteps()).as("no overflow at scale 65536 on this model").isZero();
        assertThat(scaler.scale()).isEqualTo(LossScaler.INITIAL_SCALE);
    }
}
