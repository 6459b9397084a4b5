package io.finetune.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import java.nio.file.Files;
import java.util.List;

/**
 * Training throughput (LoRA r=8 all-linear, fwd + bwd + AdamW) for the presets: not a unit test, run by hand:
 * {@code java -cp <test classpath> io.finetune.trainer.ThroughputBenchmark [tiny|small] [seqLen] [batch] [steps]}.
 */
public final class ThroughputBenchmark {
    public static void main(String[] args) throws Exception {
        ModelPreset preset = ModelPreset.byId(args.length > 0 ? args[0] : "tiny");
        int seq = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 6;
        try (LlamaModel model = LlamaModel.random(preset.config(), 1, NDManager.newBaseManager())) {
            LoraMethod lora = LoraMethod.of(Specs.lora(new LoraSpec()));
            lora.attach(model, 1);
            TrainingSpec ts = new TrainingSpec();
            ts.maxSteps = steps + 2;
            ts.checkpointEverySteps = 0;
            List<Batch> data = TinyModels.countingBatches(4, batch, seq, preset.config().vocabSize(), 3);
            Trainer t = new Trainer(model, lora, Specs.training(ts), new TrainingData(TinyModels.fixed(data), List.of(), null), Files.createTempDirectory("bench"), TinyModels.quiet());
            String threads = System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)");
            t.step(List.of(data.get(0)), 1e-4, 0); // warm-up
            t.step(List.of(data.get(1)), 1e-4, 1);
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                t.step(List.of(data.get(i % data.size())), 1e-4, i);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            System.out.printf("preset %s (d=%d, layers %d, %,d params), LoRA r=8 all-linear, batch %d x seq %d, OMP_NUM_THREADS=%s,"
                            + " engine %s: %.0f tokens/s (%.0f ms/step)%n", preset.id(), preset.config().hiddenSize(),
                    preset.config().numHiddenLayers(), model.totalParameters(), batch, seq, threads,
                    Engine.getInstance().getVersion(), (double) steps * batch * seq / secs, secs * 1000 / steps);
        }
    }
}
