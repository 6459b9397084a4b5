package io.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.MethodFixtures;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.precision.ComputePrecision;
import io.finetune.trainer.spec.MethodSettings;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Memory measured from the tensors a run holds: against the closed-form counts, and against the plan. */
class MemoryAccountingTest {
    @TempDir
    Path dir;

    private static final int LORA_RANK = 4;
    private static final int GALORE_RANK = 4;
    private static final List<Batch> DATA = TinyModels.countingBatches(2, 2, 12, 24, 5);

    private static MethodSpec spec(MethodType type) {
        MethodSpec m = new MethodSpec();
        m.type = type;
        if (type.isAdapter()) {
            m.lora = MethodFixtures.lora(List.of("all-linear"));
            m.lora.rank = LORA_RANK;
        }
        if (type == MethodType.LoRAPlus) {
            m.loraPlus = new io.finetune.api.v1alpha1.LoraPlusSpec();
            m.loraPlus.learningRateRatio = 8.0;
        }
        if (type == MethodType.GaLore) {
            m.galore = MethodFixtures.galore(List.of("all-linear"));
            m.galore.rank = GALORE_RANK;
        }
        return m;
    }

    /** Trains two steps; the summary's memory block is measured from what the run holds. */
    private MeasuredMemory measured(MethodType type, LlamaModel model) throws Exception {
        return measured(type, model, ComputePrecision.FP32);
    }

    private MeasuredMemory measured(MethodType type, LlamaModel model, ComputePrecision precision) throws Exception {
        TrainingMethod method = TrainingMethods.create(Specs.method(spec(type)));
        method.attach(model, 1);
        model.usePrecision(precision);
        TrainingSpec ts = new TrainingSpec();
        ts.maxSteps = 2;
        ts.checkpointEverySteps = 0;
        ts.logEverySteps = 1000;
        Trainer t = new Trainer(model, method, Specs.training(ts), new TrainingData(TinyModels.fixed(DATA), DATA, null), dir.resolve(type.name() + "-" + precision), TinyModels.quiet());
        MeasuredMemory memory = t.run().memory(); // what training_summary.json reports
        assertThat(memory).isNotNull();
        return memory;
    }

    @Test
    void optimizerStateMatchesTheFormulasForLoraGaloreAndFull() throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            long base = model.totalParameters();
            long loraParams = 0;
            long galoreState = 0;
            long projected = 0;
            for (Linear l : model.linears()) {
                if (l.name().equals("lm_head")) {
                    continue;
                }
                long in = l.inFeatures();
                long out = l.outFeatures();
                loraParams += LORA_RANK * (in + out);
                galoreState += 2L * GALORE_RANK * Math.max(in, out) + (long) GALORE_RANK * Math.min(in, out);
                projected += in * out;
            }
            MeasuredMemory full = measured(MethodType.Full, model);
            assertThat(full.optimizerStateBytes()).isEqualTo(4 * 2 * base);
            assertThat(full.gradientBytes()).isEqualTo(4 * base);
            assertThat(full.trainableParameters()).isEqualTo(base);
            assertThat(full.peakRssBytes()).isGreaterThan(50L << 20);
        }
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            long base = model.totalParameters();
            long galoreState = 0;
            long projected = 0;
            for (Linear l : model.linears().subList(0, model.linears().size() - 1)) {
                galoreState += 2L * GALORE_RANK * Math.max(l.inFeatures(), l.outFeatures())
                        + (long) GALORE_RANK * Math.min(l.inFeatures(), l.outFeatures());
                projected += l.inFeatures() * l.outFeatures();
            }
            MeasuredMemory galore = measured(MethodType.GaLore, model);
            // 2·r·max(m,n) + r·min(m,n) per projected matrix; plain Adam (2 moments) for embeddings, norms and lm_head.
            assertThat(galore.optimizerStateBytes()).isEqualTo(4 * (galoreState + 2 * (base - projected)));
            assertThat(galore.trainableParameters()).isEqualTo(base);
        }
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            long base = model.totalParameters();
            long loraParams = 0;
            for (Linear l : model.linears().subList(0, model.linears().size() - 1)) {
                loraParams += LORA_RANK * (l.inFeatures() + l.outFeatures());
            }
            MeasuredMemory lora = measured(MethodType.LoRA, model);
            assertThat(lora.trainableParameters()).isEqualTo(loraParams);
            assertThat(lora.optimizerStateBytes()).isEqualTo(4 * 2 * loraParams);
            assertThat(lora.gradientBytes()).as("frozen base weights hold no gradient").isEqualTo(4 * loraParams);
            assertThat(lora.totalParameters()).isEqualTo(base + loraParams);
            assertThat(lora.weightBytes()).isEqualTo(4 * (base + loraParams));
        }
    }

    /** Every method in each precision the CPU runs (fp32, and bf16 mixed precision; fp16 is CUDA-only). */
    @ParameterizedTest
    @EnumSource(value = ComputePrecision.class, names = {"FP32", "BF16"})
    void planIsWithinTenPercentOfWhatEveryMethodMeasured(ComputePrecision precision) throws Exception {
        for (MethodType type : MethodType.values()) {
            try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
                Path modelDir = dir.resolve("model-" + type);
                java.nio.file.Files.createDirectories(modelDir);
                model.config().write(modelDir, 1, 2);
                MemoryEstimate plan = TrainingMethods.create(MethodSettings.forPlan(type, Specs.method(spec(type)))).estimateMemory(
                        ModelConfig.readFile(modelDir.resolve("config.json")), new PlanInputs(2, 12, precision.bytes()));
                MeasuredMemory run = measured(type, model, precision);
                assertThat((double) plan.trainableParams()).as(type + " " + precision + " trainable")
                        .isCloseTo(run.trainableParameters(), org.assertj.core.data.Percentage.withPercentage(10));
                assertThat((double) plan.weightBytes()).as(type + " " + precision + " weights")
                        .isCloseTo(run.weightBytes(), org.assertj.core.data.Percentage.withPercentage(10));
                assertThat((double) plan.gradientBytes()).as(type + " " + precision + " gradients")
                        .isCloseTo(run.gradientBytes(), org.assertj.core.data.Percentage.withPercentage(10));
                assertThat((double) plan.optimizerStateBytes()).as(type + " " + precision + " optimizer")
                        .isCloseTo(run.optimizerStateBytes(), org.assertj.core.data.Percentage.withPercentage(10));
            }
        }
    }
}
