package io.finetune.trainer.method.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.trainer.Specs;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.cli.Generate;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.model.Parameter;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate --adapter: a saved LoRA/DoRA adapter merged into the base gives the logits of the model that trained it. */
class AdapterMergeTest {
    @TempDir
    Path dir;

    @Test
    void mergedLoraAndDoraAdaptersReproduceTheAdaptedModelsLogits() throws Exception {
        for (boolean dora : new boolean[] {false, true}) {
            LoraSpec spec = LoraTest.spec(List.of("all-linear"));
            spec.rsLoRA = dora; // also covers the alpha/sqrt(r) scaling
            LoraMethod method = dora ? LoraMethod.of(Specs.dora(spec)) : LoraMethod.of(Specs.lora(spec));
            Batch batch = TinyModels.batch(5, 24);
            float[] adapted;
            float[] base;
            Path out = dir.resolve("adapter-" + dora);
            try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
                base = LoraTest.logits(model, batch);
                method.attach(model, 7);
                Random rng = new Random(3);
                for (Linear lin : method.adaptedModules()) {
                    for (Parameter p : lin.adapter().parameters()) {
                        if (p.name().endsWith("lora_B.weight") || p.name().endsWith("magnitude_vector")) {
                            float[] v = p.array().toFloatArray();
                            for (int i = 0; i < v.length; i++) {
                                v[i] = p.name().endsWith("lora_B.weight") ? (float) rng.nextGaussian() * 0.05f
                                        : v[i] * (0.8f + 0.4f * rng.nextFloat());
                            }
                            p.array().set(FloatBuffer.wrap(v));
                        }
                    }
                }
                adapted = LoraTest.logits(model, batch);
                method.saveOutput(model, OutputTarget.of(out, "tiny"));
            }
            try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
                Generate.merge(model, out);
                float[] merged = LoraTest.logits(model, batch);
                double diff = 0;
                double moved = 0;
                for (int i = 0; i < merged.length; i++) {
                    diff = Math.max(diff, Math.abs(merged[i] - adapted[i]));
                    moved = Math.max(moved, Math.abs(base[i] - adapted[i]));
                }
                assertThat(moved).as("the adapter changes the logits").isGreaterThan(1e-2);
                assertThat(diff).as("dora=" + dora).isLessThan(1e-4);
            }
        }
    }

    @Test
    void aDirectoryWithoutAnAdapterIsAClearError() {
        try (LlamaModel model = LlamaModel.random(TinyModels.config(false), 1, NDManager.newBaseManager())) {
            assertThatThrownBy(() -> Generate.merge(model, dir)).isInstanceOf(ModelException.class)
                    .hasMessageContaining(dir.toString()).hasMessageContaining("adapter_config.json");
        }
    }
}
