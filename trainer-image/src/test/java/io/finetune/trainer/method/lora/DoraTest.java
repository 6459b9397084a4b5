package io.finetune.trainer.method.lora;

import static io.finetune.trainer.method.MethodFixtures.gradients;
import static io.finetune.trainer.method.MethodFixtures.logits;
import static io.finetune.trainer.method.MethodFixtures.lora;
import static io.finetune.trainer.method.MethodFixtures.maxAbs;
import static io.finetune.trainer.method.MethodFixtures.maxAbsDiff;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.safetensors.SafetensorsFile;
import io.finetune.trainer.method.MethodFixtures;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DoraTest {
    @TempDir
    Path dir;

    @Test
    void freshDoraIsAnExactNoOpWithMagnitudeFromRowNorms() {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(true), 1, NDManager.newBaseManager())) {
            Batch batch = TinyModels.batch(3, 24);
            float[] before = logits(model, batch);
            LoraMethod dora = LoraMethod.of(Specs.dora(lora(List.of("all-linear"))));
            dora.attach(model, 7);
            assertThat(logits(model, batch)).containsExactly(before);

            Linear q = dora.adaptedModules().get(0);
            DoraAdapter adapter = (DoraAdapter) q.adapter();
            float[] m = adapter.magnitude().array().toFloatArray();
            assertThat(adapter.magnitude().array().getShape().getShape()).containsExactly(q.outFeatures());
            float[] w = q.weight().array().toFloatArray();
            int in = (int) q.inFeatures();
            for (int row = 0; row < m.length; row++) {
                double sq = 0;
                for (int j = 0; j < in; j++) {
                    sq += (double) w[row * in + j] * w[row * in + j];
                }
                assertThat((double) m[row]).isCloseTo(Math.sqrt(sq), org.assertj.core.data.Offset.offset(1e-6));
            }
        }
    }

    @Test
    void weightNormIsAConstantInBackward() {
        // With B = 0 the DoRA scale m/n is 1, so if n is detached (paper §4.3) lora_B's gradient equals plain LoRA's;
        // a norm inside the graph would add -m/n^2 · dn/dB, which is non-zero for B = 0.
        Batch batch = TinyModels.batch(5, 24);
        try (LlamaModel a = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager());
             LlamaModel b = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod plain = LoraMethod.of(Specs.lora(lora(List.of("q_proj"))));
            plain.attach(a, 7);
            LoraMethod dora = LoraMethod.of(Specs.dora(lora(List.of("q_proj"))));
            dora.attach(b, 7);
            Map<String, float[]> gPlain = gradients(a, batch, plain.trainableParameters(a));
            Map<String, float[]> gDora = gradients(b, batch, dora.trainableParameters(b));
            String key = "model.layers.0.self_attn.q_proj.lora_B.weight";
            assertThat(maxAbs(gPlain.get(key))).isGreaterThan(1e-6f);
            assertThat(maxAbsDiff(gDora.get(key), gPlain.get(key))).isLessThan(1e-6f);
            assertThat(maxAbs(gDora.get("model.layers.0.self_attn.q_proj.lora_magnitude_vector"))).isGreaterThan(1e-6f);
        }
    }

    @Test
    void trainsMagnitudeAndDirectionMergesExactlyAndSavesPeftDora() throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod dora = LoraMethod.of(Specs.dora(lora(List.of("q_proj", "v_proj"))));
            dora.attach(model, 7);
            Map<String, float[]> before = MethodFixtures.snapshot(model);
            TrainingSpec ts = new TrainingSpec();
            ts.learningRate = 1e-2;
            ts.maxSteps = 3;
            ts.checkpointEverySteps = 0;
            ts.logEverySteps = 100;
            List<Batch> data = List.of(TinyModels.batch(5, 24));
            new Trainer(model, dora, Specs.training(ts), new TrainingData(TinyModels.fixed(data), data, null), dir, TinyModels.quiet()).run();
            for (Parameter p : model.allParameters()) {
                boolean changed = !Arrays.equals(before.get(p.name()), p.array().toFloatArray());
                assertThat(changed).as(p.name()).isEqualTo(p.name().contains("lora_"));
            }

            Batch batch = TinyModels.batch(9, 24);
            float[] unmerged = logits(model, batch);
            try (LlamaModel merged = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
                float[] base = logits(merged, batch);
                for (Linear lin : dora.adaptedModules()) {
                    try (NDManager sub = model.manager().newSubManager()) {
                        model.attachTo(sub);
                        NDArray w = lin.adapter().mergedWeight(lin);
                        merged.linears().stream().filter(l -> l.name().equals(lin.name())).findFirst().orElseThrow()
                                .weight().array().set(w.toFloatArray());
                    }
                }
                assertThat(maxAbsDiff(logits(merged, batch), unmerged)).isLessThan(1e-4f);
                assertThat(maxAbsDiff(base, unmerged)).as("the adapter changed the output").isGreaterThan(1e-3f);
            }

            dora.saveOutput(model, OutputTarget.of(dir.resolve("out"), "/models/tiny"));
            SafetensorsFile f = SafetensorsFile.open(dir.resolve("out/adapter_model.safetensors"));
            String mag = "base_model.model.model.layers.0.self_attn.v_proj.lora_magnitude_vector";
            assertThat(f.tensors()).containsKey(mag).hasSize(4 * 3);
            assertThat(f.tensors().get(mag).shape()).containsExactly(16); // v_proj out = 2 kv heads x 8
            JsonNode c = new ObjectMapper().readTree(Files.readString(dir.resolve("out/adapter_config.json")));
            assertThat(c.path("use_dora").asBoolean()).isTrue();
            assertThat(c.path("peft_type").asText()).isEqualTo("LORA");
        }
    }
}
