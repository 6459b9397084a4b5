package io.finetune.trainer.method.lora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.TrainingSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsFile;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.data.BatchSource;
import io.finetune.trainer.train.Trainer;
import io.finetune.trainer.train.TrainingData;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraTest {
    @TempDir
    Path dir;

    static float[] logits(LlamaModel model, Batch batch) {
        try (NDManager sub = model.manager().newSubManager()) {
            model.attachTo(sub);
            return model.forward(sub, batch, ForwardContext.EVAL).toFloatArray();
        }
    }

    static LoraSpec spec(List<String> targets) {
        LoraSpec s = new LoraSpec();
        s.rank = 4;
        s.alpha = 8.0;
        s.targetModules = targets;
        return s;
    }

    @Test
    void freshAdapterIsANoOpAndAllLinearSkipsLmHead() {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(true), 1, NDManager.newBaseManager())) {
            Batch batch = TinyModels.batch(3, 24);
            float[] before = logits(model, batch);
            LoraMethod lora = LoraMethod.of(Specs.lora(spec(List.of("all-linear"))));
            lora.attach(model, 7);
            assertThat(logits(model, batch)).containsExactly(before);
            assertThat(lora.adaptedModules()).hasSize(14).extracting(Linear::name).doesNotContain("lm_head")
                    .contains("model.layers.1.mlp.down_proj");
            LoraAdapter a = (LoraAdapter) lora.adaptedModules().get(0).adapter();
            float bound = (float) (1 / Math.sqrt(32));
            float max = 0;
            for (float v : a.loraA().array().toFloatArray()) {
                max = Math.max(max, Math.abs(v));
            }
            assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(bound / 2);
        }
    }

    @Test
    void trainingChangesOnlyAdapterTensorsAndMergeMatches() throws Exception {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            LoraMethod lora = LoraMethod.of(Specs.lora(spec(List.of("q_proj", "v_proj", "down_proj"))));
            lora.attach(model, 7);
            assertThat(lora.adaptedModules()).hasSize(6);
            Map<String, float[]> before = snapshot(model);
            TrainingSpec ts = new TrainingSpec();
            ts.learningRate = 1e-2;
            ts.maxSteps = 2; // step 1 moves only B (A's gradient is zero while B = 0); step 2 moves A too
            ts.checkpointEverySteps = 0;
            List<Batch> batches = List.of(TinyModels.batch(5, 24));
            Trainer t = new Trainer(model, lora, Specs.training(ts), new TrainingData(TinyModels.fixed(batches), batches, null), dir, TinyModels.quiet());
            t.run();
            Map<String, float[]> after = snapshot(model);
            for (Parameter p : model.allParameters()) {
                boolean changed = !java.util.Arrays.equals(before.get(p.name()), after.get(p.name()));
                assertThat(changed).as(p.name()).isEqualTo(p.name().contains("lora_"));
            }
            // Merged weights reproduce the adapter's output.
            Batch batch = TinyModels.batch(9, 24);
            float[] unmerged = logits(model, batch);
            try (LlamaModel merged = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
                for (Linear lin : lora.adaptedModules()) {
                    NDArray w = lin.adapter().mergedWeight(lin);
                    Linear target = merged.linears().stream().filter(l -> l.name().equals(lin.name())).findFirst().orElseThrow();
                    target.weight().array().set(w.toFloatArray());
                    w.close();
                }
                float[] m = logits(merged, batch);
                float[] base = logits(LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager()), batch);
                for (int i = 0; i < m.length; i++) {
                    assertThat(m[i]).isCloseTo(unmerged[i], org.assertj.core.data.Offset.offset(1e-4f));
                }
                assertThat(maxDiff(base, unmerged)).as("the adapter changed the output").isGreaterThan(1e-3f);
            }
            lora.saveOutput(model, OutputTarget.of(dir.resolve("out"), "/models/tiny"));
            SafetensorsFile f = SafetensorsFile.open(dir.resolve("out/adapter_model.safetensors"));
            assertThat(f.tensors().keySet()).hasSize(12)
                    .contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
            assertThat(f.tensors().get("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape()).containsExactly(4, 64);
            assertThat(f.tensors().get("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").shape()).containsExactly(32, 4);
            String cfg = Files.readString(dir.resolve("out/adapter_config.json"));
            JsonNode c = new ObjectMapper().readTree(cfg);
            assertThat(c.path("peft_type").asText()).isEqualTo("LORA");
            assertThat(c.path("r").asInt()).isEqualTo(4);
            assertThat(c.path("lora_alpha").asInt()).isEqualTo(8);
            assertThat(c.path("task_type").asText()).isEqualTo("CAUSAL_LM");
            assertThat(c.path("base_model_name_or_path").asText()).isEqualTo("/models/tiny");
            assertThat(c.path("target_modules").toString()).isEqualTo("[\"down_proj\",\"q_proj\",\"v_proj\"]");
            assertThat(cfg).startsWith("{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,");
        }
    }

    static float maxDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static Map<String, float[]> snapshot(LlamaModel model) {
        Map<String, float[]> m = new HashMap<>();
        for (Parameter p : model.allParameters()) {
            m.put(p.name(), p.array().toFloatArray());
        }
        return m;
    }
}
