package io.finetune.trainer.method.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraPlusSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.safetensors.SafetensorsFile;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.method.MethodOutput;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.model.CausalLmLoss;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.quant.QuantType;
import io.finetune.trainer.quant.Quantizer;
import io.finetune.trainer.spec.LoraSettings;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * QLoRA on CPU: LoRA, DoRA (QDoRA) and LoRA+ over a 4-bit tiny base lower the held-out loss, touch no base weight, and a
 * test-side reference (the adapter folded into the dequantized base by host arithmetic, evaluated as a plain model)
 * reproduces the eval loss.
 */
class QloraTest {
    @TempDir
    Path dir;

    static Stream<Arguments> methods() {
        return Stream.of(Arguments.of("LoRA", QuantType.NF4, true), Arguments.of("DoRA", QuantType.NF4, true),
                Arguments.of("LoRAPlus", QuantType.NF4, false), Arguments.of("LoRA", QuantType.FP4, true));
    }

    private static LoraSettings settings(String method) {
        LoraSpec s = new LoraSpec();
        s.rank = 4;
        s.alpha = 8.0;
        s.targetModules = List.of("all-linear");
        return switch (method) {
            case "DoRA" -> Specs.dora(s);
            case "LoRAPlus" -> {
                LoraPlusSpec p = new LoraPlusSpec();
                p.learningRateRatio = 4.0;
                yield Specs.loraPlus(s, p);
            }
            default -> Specs.lora(s);
        };
    }

    static double evalLoss(LlamaModel model, List<Batch> batches) {
        double sum = 0;
        long tokens = 0;
        for (Batch b : batches) {
            try (NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                sum += CausalLmLoss.sum(sub, model, b, ForwardContext.EVAL).getFloat();
                tokens += b.lossTokens();
            }
        }
        return sum / tokens;
    }

    @ParameterizedTest
    @MethodSource("methods")
    void adaptersTrainOverA4BitBaseAndTheReferenceReproducesTheEvalLoss(String method, QuantType type, boolean dq)
            throws Exception {
        Path modelDir = dir.resolve("model");
        java.nio.file.Files.createDirectories(modelDir);
        try (LlamaModel m = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            m.save(modelDir, m.stateDict(), 1, 2);
        }
        List<Batch> train = TinyModels.countingBatches(4, 4, 16, 24, 5);
        List<Batch> heldOut = TinyModels.countingBatches(2, 4, 16, 24, 99);
        try (LlamaModel q = LlamaModel.load(modelDir, NDManager.newBaseManager(), new Quantizer(type, dq))) {
            assertThat(q.quantized()).isTrue();
            assertThat(q.linears().stream().filter(l -> l.quantizedWeight() != null).map(Linear::name))
                    .hasSize(14).doesNotContain("lm_head");
            Map<String, FloatTensor> base = q.stateDict(); // the dequantized base, as the reference uses it
            LoraMethod lora = LoraMethod.of(settings(method));
            lora.attach(q, 7);
            double before = evalLoss(q, heldOut);
            TrainingSpec ts = new TrainingSpec();
            ts.learningRate = 1e-2;
            ts.maxSteps = 12;
            ts.checkpointEverySteps = 0;
            new Trainer(q, lora, Specs.training(ts), new TrainingData(TinyModels.fixed(train), heldOut, null),
                    dir.resolve("out"), TinyModels.quiet()).run();
            double after = evalLoss(q, heldOut);
            assertThat(after).as(method + " over " + type + ": held-out loss " + before + " -> " + after)
                    .isLessThan(before - 0.05);
            assertThat(q.stateDict()).as("the 4-bit base did not move").allSatisfy((name, t) ->
                    assertThat(t.data()).containsExactly(base.get(name).data()));

            // Reference: W' = W_deq + s·B·A (DoRA: m · W'/||W'||_row), computed on the host, in a model loaded as is.
            try (LlamaModel ref = LlamaModel.load(modelDir, NDManager.newBaseManager())) {
                for (Linear lin : ref.linears()) {
                    float[] w = base.get(lin.weightName()).data();
                    Linear adapted = q.linears().stream().filter(l -> l.name().equals(lin.name())).findFirst().orElseThrow();
                    if (adapted.adapter() instanceof LoraAdapter a) {
                        w = fold(w, (int) lin.outFeatures(), (int) lin.inFeatures(), a);
                    }
                    OwnedArrays.copyInto(lin.weight().array(), w);
                }
                double reference = evalLoss(ref, heldOut);
                System.out.printf("qlora %s %s dq=%s: held-out loss %.5f -> %.5f, reference %.5f%n", method, type, dq,
                        before, after, reference);
                assertThat(after).as("our eval loss vs the reference's").isCloseTo(reference, within(1e-4 * reference));

                // Outputs: a plain PEFT adapter; merge folds it into the dequantized base (the reference's weights).
                Path out = dir.resolve("written");
                MethodOutput written = lora.saveOutput(q, new OutputTarget(out, modelDir, modelDir, "file:///model", true));
                assertThat(written.serving().note()).contains(type.name().toLowerCase() + " 4-bit base");
                assertThat(written.serving().servableBy()).contains("peft");
                SafetensorsFile merged = SafetensorsFile.open(RunLayout.mergedIn(out).resolve(ModelWeights.SINGLE));
                Map<String, FloatTensor> refWeights = ref.stateDict();
                for (Linear lin : q.linears()) {
                    float[] ours = merged.read(lin.weightName()).data();
                    float[] theirs = refWeights.get(lin.weightName()).data();
                    for (int i = 0; i < ours.length; i++) {
                        assertThat(ours[i]).as(lin.weightName()).isCloseTo(theirs[i], within(1e-5f));
                    }
                }
            }
        }
    }

    private static float[] fold(float[] w, int out, int in, LoraAdapter a) {
        float[] aw = a.loraA().array().toFloatArray();   // (r, in)
        float[] bw = a.loraB().array().toFloatArray();   // (out, r)
        int r = (int) a.loraA().array().getShape().get(0);
        double[] v = new double[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double d = 0;
                for (int k = 0; k < r; k++) {
                    d += (double) bw[o * r + k] * aw[k * in + i];
                }
                v[o * in + i] = w[o * in + i] + a.scaling() * d;
            }
        }
        if (a instanceof DoraAdapter dora) {
            float[] m = dora.magnitude().array().toFloatArray();
            for (int o = 0; o < out; o++) {
                double n = 0;
                for (int i = 0; i < in; i++) {
                    n += v[o * in + i] * v[o * in + i];
                }
                double g = m[o] / Math.sqrt(n);
                for (int i = 0; i < in; i++) {
                    v[o * in + i] *= g;
                }
            }
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

}
