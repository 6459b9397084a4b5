package io.finetune.trainer.model;

import io.finetune.trainer.Specs;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.arrays.OwnedArrays;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training must not depend on when the JVM collects garbage. DJL wraps arrays made from Java data (and the scalars of
 * {@code x.mul(0.5)}) around direct buffers that a collection frees, while autograd may still read them in the backward
 * pass; {@link OwnedArrays} gives libtorch its own copy. These tests free and overwrite such memory between forward and
 * backward (a collection, then fresh direct buffers filled with 0xFF, a NaN pattern) and require exact results.
 */
class GarbageCollectionSafetyTest {
    @TempDir
    Path dir;

    /** Collects garbage, lets the Cleaner free unreachable direct buffers, then reuses that memory with NaN bytes. */
    static List<ByteBuffer> freeAndOverwrite() throws InterruptedException {
        List<ByteBuffer> filler = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(20);
            for (int i = 0; i < 2000; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(4 + (i % 16) * 4);
                while (b.hasRemaining()) {
                    b.put((byte) 0xFF);
                }
                filler.add(b);
            }
        }
        return filler;
    }

    private static float[] gradientAfterCollection(BiFunction<NDArray, Double, NDArray> op, double s) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1f, 2f, 3f, 4f});
            x.setRequiresGradient(true);
            List<ByteBuffer> keep;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = op.apply(x, s).sum();
                keep = freeAndOverwrite();
                gc.backward(y);
            }
            assertThat(keep).isNotEmpty();
            return x.getGradient().toFloatArray();
        }
    }

    @Test
    void scalarOpsKeepTheirScalarForTheBackwardPass() throws Exception {
        assertThat(gradientAfterCollection(OwnedArrays::times, 3.0)).containsExactly(3f, 3f, 3f, 3f);
        assertThat(gradientAfterCollection(OwnedArrays::dividedBy, 4.0)).containsExactly(0.25f, 0.25f, 0.25f, 0.25f);
    }

    @Test
    void arraysFromJavaDataSurviveACollectionWhileAutogradHoldsThem() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1f, 2f, 3f, 4f});
            x.setRequiresGradient(true);
            List<ByteBuffer> keep;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y;
                try (NDManager scoped = m.newSubManager()) {
                    // The factor array is closed before the backward pass; autograd keeps its storage.
                    NDArray factor = OwnedArrays.create(scoped, new float[] {5f, 6f, 7f, 8f}, new ai.djl.ndarray.types.Shape(4));
                    y = x.mul(factor).sum();
                    y.attach(m);
                }
                keep = freeAndOverwrite();
                gc.backward(y);
            }
            assertThat(keep).isNotEmpty();
            assertThat(x.getGradient().toFloatArray()).containsExactly(5f, 6f, 7f, 8f);
        }
    }

    /** The whole LoRA step (attention scale, LoRA scaling, loss normalisation) with a thread collecting garbage throughout. */
    @Test
    void loraLossCurveIsTheSameWhileTheJvmCollectsGarbage() throws Exception {
        List<Float> quiet = losses(false);
        List<Float> noisy = losses(true);
        assertThat(noisy).containsExactlyElementsOf(quiet);
        assertThat(quiet.get(quiet.size() - 1)).isLessThan(quiet.get(0));
    }

    private static List<Float> losses(boolean collectGarbage) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread churn = new Thread(() -> {
            while (!stop.get()) {
                try {
                    freeAndOverwrite();
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gc-churn");
        LoraSpec s = new LoraSpec();
        s.rank = 4;
        s.alpha = 8.0;
        s.dropout = 0.1;
        TrainingSpec ts = new TrainingSpec();
        ts.learningRate = 1e-2;
        ts.gradientAccumulationSteps = 1;
        List<Batch> data = TinyModels.countingBatches(6, 4, 16, 24, 11);
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod m = LoraMethod.of(Specs.lora(s));
            m.attach(model, 1);
            Trainer t = new Trainer(model, m, Specs.training(ts), new TrainingData(TinyModels.fixed(data), List.of(), null), null, TinyModels.quiet());
            if (collectGarbage) {
                churn.start();
            }
            List<Float> out = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                out.add((float) t.step(List.of(data.get(i % data.size())), ts.learningRate, i));
            }
            return out;
        } finally {
            stop.set(true);
            if (collectGarbage) {
                churn.join();
            }
        }
    }
}
