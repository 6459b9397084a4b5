package io.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.train.Checkpoints;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each family beyond plain LLaMA against the independent PyTorch reference (tools/reference/families.py golden): the tiny
 * model in Hugging Face layout that the script wrote (config.json + BF16 safetensors, read by our loader only), logits, loss
 * and LoRA gradients within relative error 1e-4. mistral-window windows every layer (window 4 < the 6- and 8-token records),
 * qwen2-window only layer 1 (use_sliding_window, max_window_layers 1), qwen3 has per-head q/k norms, head_dim 16 with
 * hidden 32 and 4 heads, tied embeddings and a sliding_window key that use_sliding_window=false turns off. phi3 has the
 * fused qkv_proj and gate_up_proj (one LoRA pair each, as PEFT adapts them) and rotates half of each head
 * (partial_rotary_factor 0.5). gemma2 has Gemma's block ((1 + w) norms, four per layer, GeGLU, scaled embeddings),
 * query_pre_attn_scalar 24 != head_dim 16, attention and final soft-capping, layer 0 windowed (3) and layer 1 full by
 * the default pattern; gemma3 (gemma3_text) adds q/k norms and three layers, two sliding with the local RoPE base and one
 * global with rope_theta 1e6 and linear scaling, no soft-capping.
 */
class FamiliesGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"mistral-window", "qwen2-window", "qwen3", "phi3", "gemma2", "gemma3"})
    void logitsLossAndLoraGradientsMatchPyTorch(String family) throws Exception {
        Path dir = GoldenTest.GOLDEN.resolve(family);
        Map<String, FloatTensor> in = Checkpoints.readTensors(dir.resolve("inputs.safetensors"));
        Map<String, FloatTensor> expected = Checkpoints.readTensors(dir.resolve("expected.safetensors"));
        try (LlamaModel model = LlamaModel.load(dir.resolve("model"), NDManager.newBaseManager())) {
            LoraSpec spec = new LoraSpec();
            spec.rank = 4;
            spec.alpha = 8.0;
            LoraMethod lora = LoraMethod.of(Specs.lora(spec));
            lora.attach(model, 0);
            List<Parameter> adapters = lora.trainableParameters(model);
            // A and B for every linear of every layer (qwen2: 2 layers x 7 = 28 tensors; phi3: 2 x 4 fused = 16).
            long layerLinears = model.config().linears().stream().filter(l -> !l.name().equals(ModelConfig.LM_HEAD)).count();
            assertThat(adapters).hasSize(2 * (int) layerLinears);
            assertThat(expected.keySet().stream().filter(k -> k.startsWith("grad."))).hasSize(adapters.size());
            for (Parameter p : adapters) {
                p.array().set(in.get(p.name()).data());
            }
            Batch batch = GoldenTest.batch(in);
            float[] logits;
            try (NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray out = model.forward(sub, batch, ForwardContext.EVAL);
                    NDArray loss = CausalLmLoss.sum(sub, out, batch).div(batch.lossTokens());
                    gc.backward(loss);
                    logits = out.toFloatArray();
                    GoldenTest.assertClose(family + " logits", logits, expected.get("logits").data());
                    GoldenTest.assertClose(family + " loss", new float[] {loss.getFloat()}, expected.get("loss").data());
                }
                for (Parameter p : adapters) {
                    NDArray g = p.array().getGradient();
                    g.attach(sub);
                    GoldenTest.assertClose(family + " grad " + p.name(), g.toFloatArray(),
                            expected.get("grad." + p.name()).data());
                }
            }
            float[] full = expected.get("logits_full_attention").data();
            if (model.config().layerTypes().contains(LayerAttention.SLIDING)) {
                // The window is smaller than the records: attending fully would give other logits, far beyond 1e-4.
                assertThat(relativeError(logits, full)).as(family + ": the window changes the logits").isGreaterThan(1e-2);
            } else {
                assertThat(relativeError(logits, full)).as(family + ": no layer is windowed").isLessThan(1e-6);
            }
        }
    }

    private static double relativeError(float[] a, float[] b) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < a.length; i++) {
            diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
            norm += b[i] * (double) b[i];
        }
        return Math.sqrt(diff / norm);
    }
}
