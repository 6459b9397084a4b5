package io.finetune.trainer.method.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.Serving;
import io.finetune.api.v1alpha1.LoraInit;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.model.Parameter;
import io.finetune.trainer.spec.LoraSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Writes a PEFT LoRA adapter (methods.md section 5): adapter_model.safetensors with keys
 * {@code base_model.model.<module>.lora_A.weight} (r, in) / {@code lora_B.weight} (out, r), and adapter_config.json as PEFT
 * ~0.14 writes it (sorted keys, indent 2, inference_mode true).
 */
public final class PeftAdapterWriter {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    public static final String PREFIX = "base_model.model.";

    private PeftAdapterWriter() {
    }

    /** {@code tensors}: adapter parameters by their in-model name; {@code modules}: full names of adapted modules. */
    public static void write(Path dir, Collection<Parameter> tensors, Collection<String> modules, LoraSettings spec,
                             boolean useDora, String baseModel) throws IOException {
        Files.createDirectories(dir);
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        for (Parameter p : tensors) {
            out.put(PREFIX + p.name(), FloatTensor.of(p.array()));
        }
        SafetensorsWriter.write(dir.resolve(WEIGHTS), out);
        TreeSet<String> targets = new TreeSet<>();
        for (String m : modules) {
            targets.add(m.substring(m.lastIndexOf('.') + 1));
        }
        Files.writeString(dir.resolve(CONFIG), PythonJson.dumps(config(spec, useDora, baseModel, List.copyOf(targets))));
    }

    /** Who serves the adapter in {@code dir}, judged from its adapter_config.json as written (r, use_dora, modules_to_save) and a merged/ beside it. */
    public static Serving.Verdict servingOf(Path dir) throws IOException {
        return servingOf(dir, null);
    }

    /** As {@link #servingOf(Path)}, for an adapter trained over a base held in {@code quantizedBase} (nf4, fp4) or null. */
    public static Serving.Verdict servingOf(Path dir, String quantizedBase) throws IOException {
        JsonNode c = new ObjectMapper().readTree(dir.resolve(CONFIG).toFile());
        JsonNode save = c.path("modules_to_save");
        return Serving.adapter(new Serving.AdapterFacts(c.path("r").asInt(), c.path("use_dora").asBoolean(false),
                save.isArray() && !save.isEmpty(), Files.isDirectory(RunLayout.mergedIn(dir)), quantizedBase));
    }

    static Map<String, Object> config(LoraSettings spec, boolean useDora, String baseModel, List<String> targets) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("alpha_pattern", Map.of());
        c.put("auto_mapping", null);
        c.put("base_model_name_or_path", baseModel);
        c.put("bias", "none");
        c.put("corda_config", null);
        c.put("eva_config", null);
        c.put("exclude_modules", null);
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("init_lora_weights", spec.init() == LoraInit.GAUSSIAN ? (Object) "gaussian" : (Object) Boolean.TRUE);
        c.put("layer_replication", null);
        c.put("layers_pattern", null);
        c.put("layers_to_transform", null);
        c.put("loftq_config", Map.of());
        c.put("lora_alpha", spec.alpha() == Math.rint(spec.alpha()) ? (Object) (long) spec.alpha() : (Object) spec.alpha());
        c.put("lora_bias", false);
        c.put("lora_dropout", spec.dropout());
        c.put("megatron_config", null);
        c.put("megatron_core", "megatron.core");
        c.put("modules_to_save", null);
        c.put("peft_type", "LORA");
        c.put("r", spec.rank());
        c.put("rank_pattern", Map.of());
        c.put("revision", null);
        c.put("target_modules", targets);
        c.put("task_type", "CAUSAL_LM");
        c.put("trainable_token_indices", null);
        c.put("use_dora", useDora);
        c.put("use_rslora", spec.rsLoRA());
        return c;
    }
}
