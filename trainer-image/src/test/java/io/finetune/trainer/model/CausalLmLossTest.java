package io.finetune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
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
import io.finetune.trainer.method.full.FullMethod;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.method.TrainingMethod;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The chunked lm_head + cross-entropy (hand-written gradients, see {@link CausalLmLoss}) gives the same loss and the same
 * gradient for every trainable parameter as the unchunked loss through autograd, with ignored prompt tokens, a packed row, a
 * padded row and a chunk size that does not divide the token count; tied (lm_head = embed_tokens) and untied heads.
 */
class CausalLmLossTest {
    private static final int VOCAB = 61;

    static ModelConfig config(boolean tied) {
        return new ModelConfig("llama", 32, 64, 2, 4, 2, 8, 1e-5, 10000.0, null, VOCAB, tied, false, 128);
    }

    /** With {@code softcap}: Gemma 2's block with a final cap small enough (0.5) to bend the tiny model's logits. */
    static ModelConfig config(boolean tied, boolean softcap) {
        return !softcap ? config(tied) : new ModelConfig("gemma2", 32, 64, 2, 4, 2, 8, 1e-6, 10000.0, null, VOCAB, tied, false,
                128, 0, java.util.Collections.nCopies(2, LayerAttention.FULL),
                new FamilyOptions(HiddenActivation.GELU_TANH, 1.0, 8, 0, 0.5, 0));
    }

    static TrainingMethod method(String name) {
        if (name.equals("Full")) {
            return new FullMethod();
        }
        LoraSpec s = new LoraSpec();
        s.rank = 4;
        s.dropout = 0.0;
        return LoraMethod.of(Specs.lora(s));
    }

    record Result(float loss, Map<String, float[]> grads) {
    }

    static Result lossAndGrads(LlamaModel model, List<Parameter> trainable, Batch batch, int chunk) {
        try (NDManager sub = model.manager().newSubManager()) {
            model.attachTo(sub);
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = CausalLmLoss.sum(sub, model, batch, ForwardContext.EVAL, chunk);
                gc.backward(OwnedArrays.dividedBy(l, 7)); // a scale after the loss, as the trainer's token-count division
                loss = l.getFloat();
            }
            Map<String, float[]> grads = new LinkedHashMap<>();
            for (Parameter p : trainable) {
                NDArray g = p.array().getGradient();
                g.attach(sub);
                grads.put(p.name(), g.toFloatArray());
                JniUtils.zeroGrad((PtNDArray) p.array());
            }
            return new Result(loss, grads);
        }
    }

    @ParameterizedTest
    @CsvSource({"Full,true,false", "Full,false,false", "LoRA,true,false", "LoRA,false,false", "Full,true,true",
        "LoRA,false,true"})
    void chunkedLossAndGradientsEqualTheUnchunkedOnes(String methodName, boolean tied, boolean softcap) {
        try (LlamaModel model = LlamaModel.random(config(tied, softcap), 3, NDManager.newBaseManager())) {
            TrainingMethod method = method(methodName);
            method.attach(model, 1);
            List<Parameter> trainable = method.trainableParameters(model);
            assertThat(CausalLmLoss.chunkable(model)).as("the chunked path is the one under test").isTrue();
            assertThat(model.lmHead().weight().array().hasGradient()).isEqualTo(methodName.equals("Full"));
            if (methodName.equals("LoRA")) {
                // LoRA's B starts at zero: give it values so the adapters' gradients depend on the loss's gradient
                try (NDManager tmp = model.manager().newSubManager()) {
                    for (Parameter p : trainable) {
                        p.array().addi(tmp.randomUniform(-0.1f, 0.1f, p.array().getShape()));
                    }
                }
            }
            Batch batch = TinyModels.batch(5, VOCAB); // ignored prompt labels, two packed records, a padded row
            int n = batch.batchSize() * batch.seqLen();
            assertThat(batch.lossTokens()).isLessThan(n - batch.batchSize()).isGreaterThan(0);

            Result full = lossAndGrads(model, trainable, batch, 0);
            for (int chunk : new int[] {5, 7, 23}) {
                Result c = lossAndGrads(model, trainable, batch, chunk);
                assertThat(c.loss()).as("chunk %d loss", chunk).isCloseTo(full.loss(), org.assertj.core.data.Offset.offset(1e-4f));
                assertThat(c.grads().keySet()).isEqualTo(full.grads().keySet());
                for (String name : full.grads().keySet()) {
                    float[] a = full.grads().get(name);
                    float[] b = c.grads().get(name);
                    double maxAbs = 0;
                    double maxDiff = 0;
                    for (int i = 0; i < a.length; i++) {
                        maxAbs = Math.max(maxAbs, Math.abs(a[i]));
                        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                    }
                    assertThat(maxAbs).as("%s has a gradient", name).isGreaterThan(1e-6);
                    assertThat(maxDiff).as("chunk %d: %s max abs diff (max |g| %.3g)", chunk, name, maxAbs)
                            .isLessThan(1e-6 + 1e-4 * maxAbs);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"Full,true", "LoRA,true", "Full,false"})
    void liveNdArrayCountStaysFlatOverChunkedSteps(String methodName, boolean tied) {
        try (NDManager root = NDManager.newBaseManager();
             LlamaModel model = LlamaModel.random(config(tied), 3, root.newSubManager())) {
            TrainingMethod method = method(methodName);
            method.attach(model, 1);
            List<Parameter> trainable = method.trainableParameters(model);
            Batch batch = TinyModels.batch(5, VOCAB);
            long[] counts = new long[20];
            for (int i = 0; i < counts.length; i++) {
                lossAndGrads(model, trainable, batch, 5);
                counts[i] = ((BaseNDManager) root).getManagedArrays().size();
            }
            assertThat(counts[counts.length - 1]).isEqualTo(counts[1]);
        }
    }
}
