package io.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.quant.QuantType;
import io.finetune.trainer.quant.Quantizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The layer-by-layer recomputed backward gives the plain backward's loss and adapter gradients (dropout masks included),
 * over a 4-bit base and over a base loaded as is.
 */
class LayerwiseRecomputeTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"LoRA,true,0.0", "DoRA,true,0.1", "LoRA,false,0.1"})
    void gradientsAreThePlainBackwards(String method, boolean quantized, double dropout) throws Exception {
        Path modelDir = Files.createDirectories(dir.resolve("m"));
        try (LlamaModel m = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            m.save(modelDir, m.stateDict(), 1, 2);
        }
        Batch batch = TinyModels.countingBatches(1, 3, 16, 24, 4).get(0);
        try (LlamaModel model = quantized
                ? LlamaModel.load(modelDir, NDManager.newBaseManager(), new Quantizer(QuantType.NF4, true))
                : LlamaModel.load(modelDir, NDManager.newBaseManager())) {
            assertRecomputedMatchesPlain(model, method, dropout, batch);
        }
    }

    /**
     * Over each family's 4-bit base (the reference script's tiny models): the recomputed layers get the same embeddings
     * (Gemma's scaled ones), RoPE tables (Gemma 3's local base) and masks (windowed where a layer slides, with 16-token rows
     * longer than the windows) as the plain forward.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mistral-window", "qwen2-window", "phi3", "gemma2", "gemma3"})
    void recomputedLayersSeeTheFamilysInputs(String family) throws Exception {
        Batch batch = TinyModels.countingBatches(1, 3, 16, 40, 4).get(0);
        try (LlamaModel model = LlamaModel.load(GoldenTest.GOLDEN.resolve(family).resolve("model"),
                NDManager.newBaseManager(), new Quantizer(QuantType.NF4, true))) {
            assertRecomputedMatchesPlain(model, "LoRA", 0.0, batch);
        }
    }

    private static void assertRecomputedMatchesPlain(LlamaModel model, String method, double dropout, Batch batch) {
        {
            LoraSpec s = new LoraSpec();
            s.rank = 4;
            s.alpha = 8.0;
            s.dropout = dropout;
            s.targetModules = List.of("all-linear");
            LoraMethod lora = LoraMethod.of(method.equals("DoRA") ? Specs.dora(s) : Specs.lora(s));
            lora.attach(model, 3);
            // B = 0 at init would leave A's gradient zero: give B values so that every gradient is exercised.
            for (Linear lin : lora.adaptedModules()) {
                var b = ((io.finetune.trainer.method.lora.LoraAdapter) lin.adapter()).loraB().array();
                float[] v = new float[(int) b.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = 0.01f * ((i * 7 % 13) - 6);
                }
                OwnedArrays.copyInto(b, v);
            }
            List<io.finetune.trainer.model.Parameter> params = lora.trainableParameters(model);
            float[] plainLoss = new float[1];
            Map<String, float[]> plain = grads(model, params, sub -> {
                NDArray loss = OwnedArrays.dividedBy(CausalLmLoss.sum(sub, model, batch, new ForwardContext(true, 5)), 10);
                JniUtils.backward((PtNDArray) loss, (PtNDArray) sub.ones(loss.getShape()), false, false);
                plainLoss[0] = loss.getFloat();
            });
            float[] recomputedLoss = new float[1];
            Map<String, float[]> recomputed = grads(model, params, sub -> recomputedLoss[0] =
                    LayerwiseRecompute.lossAndBackward(sub, model, batch, new ForwardContext(true, 5),
                            x -> OwnedArrays.dividedBy(x, 10), x -> x).getFloat());
            assertThat(recomputedLoss[0]).isCloseTo(plainLoss[0], within(1e-6f * Math.abs(plainLoss[0])));
            for (io.finetune.trainer.model.Parameter p : params) {
                float[] a = plain.get(p.name());
                float[] b = recomputed.get(p.name());
                float scale = 0;
                for (float v : a) {
                    scale = Math.max(scale, Math.abs(v));
                }
                assertThat(scale).as(p.name() + " has a gradient").isGreaterThan(0f);
                for (int i = 0; i < a.length; i++) {
                    assertThat(b[i]).as(p.name() + "[" + i + "]").isCloseTo(a[i], within(1e-5f * scale));
                }
            }
        }
    }

    private static Map<String, float[]> grads(LlamaModel model, List<io.finetune.trainer.model.Parameter> params,
                                              java.util.function.Consumer<NDManager> step) {
        Map<String, float[]> out = new HashMap<>();
        try (NDManager sub = model.manager().newSubManager()) {
            model.attachTo(sub);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                step.accept(sub);
            }
            for (io.finetune.trainer.model.Parameter p : params) {
                NDArray g = p.array().getGradient();
                g.attach(sub);
                out.put(p.name(), g.toFloatArray());
                JniUtils.zeroGrad((PtNDArray) p.array());
            }
        }
        return out;
    }
}
