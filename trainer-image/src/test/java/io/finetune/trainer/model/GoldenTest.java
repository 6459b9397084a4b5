package io.finetune.trainer.model;

import io.finetune.trainer.Specs;
import io.finetune.trainer.data.Batch;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.train.Checkpoints;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Numerical fidelity against PyTorch: logits, loss and LoRA gradients of a fixed tiny LLaMA (GQA, q/k/v bias, llama3 RoPE
 * scaling, BF16 weights, a packed row and a padded row) must match tools/reference/reference.py to relative error < 1e-4.
 */
public class GoldenTest {
    public static final Path GOLDEN = Path.of("src/test/resources/golden");

    @Test
    void logitsLossAndLoraGradientsMatchPyTorch() throws Exception {
        Map<String, FloatTensor> in = Checkpoints.readTensors(GOLDEN.resolve("inputs.safetensors"));
        Map<String, FloatTensor> expected = Checkpoints.readTensors(GOLDEN.resolve("expected.safetensors"));
        try (LlamaModel model = LlamaModel.load(GOLDEN.resolve("model"), NDManager.newBaseManager())) {
            assertThat(model.config().ropeScaling()).isNotNull();
            assertThat(model.config().attentionBias()).isTrue();
            LoraSpec spec = new LoraSpec();
            spec.rank = 4;
            spec.alpha = 8.0;
            LoraMethod lora = LoraMethod.of(Specs.lora(spec));
            lora.attach(model, 0);
            List<Parameter> adapters = lora.trainableParameters(model);
            assertThat(adapters).hasSize(28);
            for (Parameter p : adapters) {
                p.array().set(in.get(p.name()).data());
            }
            Batch batch = batch(in);
            try (NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = model.forward(sub, batch, ForwardContext.EVAL);
                    NDArray loss = CausalLmLoss.sum(sub, logits, batch).div(batch.lossTokens());
                    gc.backward(loss);
                    assertClose("logits", logits.toFloatArray(), expected.get("logits").data());
                    assertClose("loss", new float[] {loss.getFloat()}, expected.get("loss").data());
                }
                for (Parameter p : adapters) {
                    NDArray g = p.array().getGradient();
                    g.attach(sub);
                    assertClose("grad " + p.name(), g.toFloatArray(), expected.get("grad." + p.name()).data());
                }
            }
        }
    }

    public static Batch batch(Map<String, FloatTensor> in) {
        FloatTensor ids = in.get("input_ids");
        int b = (int) ids.shape()[0];
        int t = (int) ids.shape()[1];
        long[] idArr = toLong(ids.data());
        long[] labels = toLong(in.get("labels").data());
        long[] pos = toLong(in.get("position_ids").data());
        int[] seg = new int[b * t];
        for (int i = 0; i < seg.length; i++) {
            seg[i] = (int) in.get("segment_ids").data()[i];
        }
        return new Batch(b, t, idArr, labels, pos, seg, Batch.countLossTokens(b, t, labels, seg));
    }

    private static long[] toLong(float[] f) {
        long[] l = new long[f.length];
        for (int i = 0; i < f.length; i++) {
            l[i] = (long) f[i];
        }
        return l;
    }

    /** ||actual - expected|| / ||expected|| < 1e-4 (fp32). */
    public static void assertClose(String what, float[] actual, float[] expected) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < actual.length; i++) {
            diff += (actual[i] - expected[i]) * (double) (actual[i] - expected[i]);
            norm += expected[i] * (double) expected[i];
        }
        assertThat(norm).as(what + " is non-trivial").isGreaterThan(0);
        assertThat(Math.sqrt(diff / norm)).as(what + " relative error").isLessThan(1e-4);
    }
}
