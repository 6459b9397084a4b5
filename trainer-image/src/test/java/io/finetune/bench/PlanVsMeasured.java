package io.finetune.bench;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.ComputeDtype;
import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraPlusSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.BatchSource;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.precision.ComputePrecision;
import io.finetune.trainer.quant.Quantizer;
import io.finetune.trainer.spec.QuantizationSettings;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.List;

/**
 * One method on one shape: the plan's activation estimate ({@code TrainingMethod.estimateMemory(...).activationBytes()})
 * next to the step's measured working set ({@link StepWorkingSet}), for bench/run.sh's plan-vs-measured table (PARTS=planmem,
 * through {@code TrainerBench stepmem}).
 *
 * <p>Settings: LoRA/DoRA/LoRA+ r=16 alpha=32 all-linear, dropout 0 (LoRA+ ratio 16); GaLore r=32 gap 200 scale 0.25
 * all-linear; Full. AdamW, gradients clipped to 1.0 (the trainer's default), the loss chunked as the trainer's default.
 */
public final class PlanVsMeasured {
    /** Warm-up steps before the measured one: the first allocates gradients, Adam moments and libtorch's caches. */
    static final int WARMUP = 2;

    /** @param ratio plan / measured: the plan holds when it is in [1, 1.25] */
    public record Row(MethodType method, long measuredBytes, long planActivationBytes) {
        public double ratio() {
            return planActivationBytes / (double) Math.max(1, measuredBytes);
        }
    }

    private PlanVsMeasured() {
    }

    static MethodSpec spec(MethodType type) {
        MethodSpec m = new MethodSpec();
        m.type = type;
        switch (type) {
            case LoRA, DoRA, LoRAPlus -> {
                m.lora = new LoraSpec();
                m.lora.rank = 16;
                m.lora.alpha = 32.0;
                m.lora.dropout = 0.0;
                if (type == MethodType.LoRAPlus) {
                    m.loraPlus = new LoraPlusSpec();
                    m.loraPlus.learningRateRatio = 16.0;
                }
            }
            case GaLore -> {
                m.galore = new GaloreSpec();
                m.galore.rank = 32;
                m.galore.updateProjectionGap = 200;
                m.galore.scale = 0.25;
            }
            case Full -> { }
        }
        return m;
    }

    /** The settings of {@link #spec} as one token for the bench line: {@code r16,alpha32.0}, {@code r32,gap200,scale0.25}. */
    static String settings(MethodType type) {
        MethodSpec m = spec(type);
        return switch (type) {
            case LoRA, DoRA, LoRAPlus -> "r" + m.lora.rank + ",alpha" + m.lora.alpha + ",all-linear"
                    + (m.loraPlus != null ? ",ratio" + m.loraPlus.learningRateRatio : "");
            case GaLore -> "r" + m.galore.rank + ",gap" + m.galore.updateProjectionGap + ",scale" + m.galore.scale + ",all-linear";
            case Full -> "-";
        };
    }

    /**
     * Attaches {@code type} to {@code model} (a fresh one: the method changes it), measures one step of batch x seq; over a
     * quantized model the plan is the one for that base (QLoRA).
     */
    public static Row measure(LlamaModel model, MethodType type, int batch, int seq, ComputePrecision precision)
            throws IOException {
        TrainingMethod method = TrainingMethods.create(Specs.method(spec(type)));
        method.attach(model, 1);
        model.usePrecision(precision);
        TrainingSpec ts = new TrainingSpec();
        ts.maxSteps = WARMUP + 1;
        ts.checkpointEverySteps = 0;
        Batch data = TrainerBench.batch(batch, seq, model.config().vocabSize());
        BatchSource source = new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return 1;
            }

            @Override
            public List<Batch> epoch(long seed, int epoch) {
                return List.of(data);
            }
        };
        Trainer t = new Trainer(model, method, Specs.training(ts), new TrainingData(source, List.of(), null),
                Files.createTempDirectory("planmem"), new PrintStream(OutputStream.nullOutputStream()));
        long measured = StepWorkingSet.measure(t, data, WARMUP);
        PlanInputs inputs = new PlanInputs(batch, seq, precision.bytes());
        if (model.quantized()) {
            Quantizer q = model.quantizer();
            inputs = inputs.withQuantization(new QuantizationSettings(q.type(), q.doubleQuant(), ComputeDtype.AUTO));
        }
        long plan = method.estimateMemory(model.config(), inputs).activationBytes();
        return new Row(type, measured, plan);
    }

    /** A fresh random-init model of a preset's shape (seed 42, as init-model). */
    static LlamaModel fresh(io.finetune.trainer.model.ModelPreset preset) {
        return LlamaModel.random(preset.config(), 42, NDManager.newBaseManager());
    }
}
