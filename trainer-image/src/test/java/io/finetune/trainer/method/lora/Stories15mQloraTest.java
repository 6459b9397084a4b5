package io.finetune.trainer.method.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.quickstart.QuickstartTask;
import io.finetune.trainer.quickstart.WordnetTask;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.Batcher;
import io.finetune.trainer.data.DatasetLoader;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsFile;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.llama2c.RealModel;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QLoRA on the real quick-start task: LoRA over stories15M held in NF4 (double-quantized constants) learns WordNet
 * definitions through the whole run (manifest -> TrainingRun -> PEFT adapter); the held-out loss falls, and a host-side
 * reference (A, B read back from adapter_model.safetensors and folded into the dequantized base) reproduces the run's eval
 * loss.
 */
class Stories15mQloraTest {
    @TempDir
    Path dir;

    @Test
    void loraOverA4BitStories15mLowersTheHeldOutLossAndTheReferenceAgrees() throws Exception {
        Assumptions.assumeTrue(WordnetTask.available(WordnetTask.DEFAULT_DIR), "WordNet (wordnet-base) is not installed");
        Path hf = RealModel.hf();
        WordnetTask.Split split = WordnetTask.build(WordnetTask.DEFAULT_DIR);
        Path train = dir.resolve("train.jsonl");
        Path eval = dir.resolve("eval.jsonl");
        QuickstartTask.writeJsonl(train, split.train().subList(0, 320));
        QuickstartTask.writeJsonl(eval, split.eval().subList(0, 32));
        String manifest = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: qlora-stories15m
                spec:
                  model:
                    source: file://%s
                    quantization:
                      type: nf4
                  dataset:
                    source: file://%s
                    evalSource: file://%s
                    format: prompt-completion
                    maxSeqLength: 32
                    packing: true
                  method:
                    type: LoRA
                    lora:
                      rank: 16
                      alpha: 32
                      targetModules: [all-linear]
                  training:
                    maxSteps: 16
                    learningRate: 0.002
                    batchSize: 8
                    warmupSteps: 2
                    checkpointEverySteps: 0
                    logEverySteps: 10
                    seed: 42
                  output:
                    destination: file://%s
                """.formatted(hf, train, eval, dir.resolve("out"));
        RunSpec spec = RunSpecReader.read(FineTuneJobManifest.parse(manifest, "qlora-stories15m.yaml"));
        assertThat(spec.quantization()).isPresent();
        Path out = dir.resolve("out");
        TrainingSummary summary = TrainingRun.local(spec, out, TinyModels.quiet(), TrainingRun.Options.DEFAULT,
                (m, t) -> assertThat(m.quantized()).isTrue()).summary();
        System.out.printf("stories15M QLoRA (nf4 + double quant): held-out loss %.4f -> %.4f, %.0f tokens/s%n",
                summary.evalLossBefore(), summary.evalLossAfter(), summary.tokensPerSecond());
        try (LlamaModel plain = LlamaModel.load(hf, NDManager.newBaseManager());
             TextTokenizer tok = TextTokenizer.load(hf)) {
            List<Batch> heldOut = Batcher.sequential(
                    DatasetLoader.load(spec.data(), train, eval, tok, spec.training().seed()).eval(),
                    spec.training().batchSize(), spec.data().maxSeqLength(), tok.padId());
            System.out.printf("the same held-out loss of stories15M as loaded (fp32, no adapter): %.4f%n",
                    Trainer.evalLoss(plain, heldOut));
        }
        assertThat(summary.evalLossAfter()).isLessThan(summary.evalLossBefore() - 0.1);

        // Reference: the dequantized base (the same deterministic quantization), plus s·B·A from the written adapter.
        Map<String, FloatTensor> dequantized;
        try (LlamaModel q = LlamaModel.load(hf, NDManager.newBaseManager(), spec.quantization().get().quantizer())) {
            dequantized = q.stateDict();
        }
        SafetensorsFile adapter = SafetensorsFile.open(out.resolve(PeftAdapterWriter.WEIGHTS));
        double s = 32.0 / 16;
        try (TextTokenizer tok = TextTokenizer.load(hf); LlamaModel ref = LlamaModel.load(hf, NDManager.newBaseManager())) {
            for (Linear lin : ref.linears()) {
                if (lin.quantizedWeight() == null && !dequantized.containsKey(lin.weightName())) {
                    continue; // stories15M ties lm_head to the embedding, which stays as loaded and is not adapted
                }
                float[] w = dequantized.get(lin.weightName()).data().clone();
                String key = PeftAdapterWriter.PREFIX + lin.name();
                if (adapter.tensors().containsKey(key + ".lora_A.weight")) {
                    float[] a = adapter.read(key + ".lora_A.weight").data();   // (r, in)
                    float[] b = adapter.read(key + ".lora_B.weight").data();   // (out, r)
                    int in = (int) lin.inFeatures();
                    int r = a.length / in;
                    for (int o = 0; o < lin.outFeatures(); o++) {
                        for (int i = 0; i < in; i++) {
                            double d = 0;
                            for (int k = 0; k < r; k++) {
                                d += (double) b[o * r + k] * a[k * in + i];
                            }
                            w[o * in + i] = (float) (w[o * in + i] + s * d);
                        }
                    }
                }
                OwnedArrays.copyInto(lin.weight().array(), w);
            }
            List<Batch> heldOut = Batcher.sequential(
                    DatasetLoader.load(spec.data(), train, eval, tok, spec.training().seed()).eval(),
                    spec.training().batchSize(), spec.data().maxSeqLength(), tok.padId());
            double reference = Trainer.evalLoss(ref, heldOut);
            System.out.printf("reference eval loss over the dequantized base: %.6f (ours %.6f)%n", reference,
                    summary.evalLossAfter());
            assertThat(summary.evalLossAfter()).isCloseTo(reference, within(1e-4 * reference));
        }
        assertThat(Files.readString(out.resolve(PeftAdapterWriter.CONFIG))).contains("\"peft_type\": \"LORA\"");
    }
}
