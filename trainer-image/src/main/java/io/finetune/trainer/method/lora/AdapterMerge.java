package io.finetune.trainer.method.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.safetensors.FloatTensor;
import io.finetune.trainer.safetensors.SafetensorsFile;
import io.finetune.trainer.arrays.OwnedArrays;
import io.finetune.trainer.model.Linear;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.model.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Folds adapters into base weights, as PEFT's {@code merge_and_unload}, with the layer's own merge
 * ({@link LoraAdapter#mergedWeight}: W' = W + s·B·A; DoRA then rescales each output row to its magnitude,
 * W' = m · V / ||V||_row with V = W + s·B·A). Two entry points: the adapters the trained model holds (spec.output.merge), and a
 * saved PEFT LoRA/DoRA adapter directory (as {@link PeftAdapterWriter} writes it) merged into a loaded base model
 * ({@code generate --adapter}), with s = alpha/r (alpha/sqrt(r) with rsLoRA) read from its adapter_config.json.
 */
public final class AdapterMerge {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterMerge() {
    }

    /** The base weights with every adapter the model holds folded in, on the host (HF names). */
    public static Map<String, FloatTensor> mergedWeights(LlamaModel model) {
        Map<String, FloatTensor> weights = model.stateDict();
        for (Linear lin : model.linears()) {
            if (lin.adapter() != null) {
                try (NDManager sub = model.manager().newSubManager()) {
                    model.attachTo(sub);
                    NDArray w = lin.adapter().mergedWeight(lin);
                    weights.put(lin.weightName(), FloatTensor.of(w));
                }
            }
        }
        return weights;
    }

    /** Merges a saved adapter into the model's base weights in place; returns how many modules were merged. */
    public static int mergeInto(LlamaModel model, Path adapterDir) throws IOException {
        Path configFile = adapterDir.resolve(PeftAdapterWriter.CONFIG);
        Path weightsFile = adapterDir.resolve(PeftAdapterWriter.WEIGHTS);
        if (!Files.isRegularFile(configFile) || !Files.isRegularFile(weightsFile)) {
            throw new ModelException(adapterDir + ": not a PEFT adapter directory (needs " + PeftAdapterWriter.CONFIG
                    + " and " + PeftAdapterWriter.WEIGHTS + ")");
        }
        JsonNode c = JSON.readTree(configFile.toFile());
        if (!"LORA".equals(c.path("peft_type").asText())) {
            throw new ModelException(configFile + ": peft_type '" + c.path("peft_type").asText() + "' is not LORA");
        }
        int r = c.path("r").asInt(0);
        double alpha = c.path("lora_alpha").asDouble(Double.NaN);
        if (r <= 0 || Double.isNaN(alpha)) {
            throw new ModelException(configFile + ": 'r' must be a positive integer and 'lora_alpha' a number");
        }
        double s = c.path("use_rslora").asBoolean(false) ? alpha / Math.sqrt(r) : alpha / r;
        boolean dora = c.path("use_dora").asBoolean(false);
        SafetensorsFile file = SafetensorsFile.open(weightsFile);
        Map<String, String> modules = new TreeMap<>();
        for (String key : file.tensors().keySet()) {
            if (key.endsWith(".lora_A.weight")) {
                String module = key.substring(0, key.length() - ".lora_A.weight".length());
                modules.put(module.startsWith(PeftAdapterWriter.PREFIX)
                        ? module.substring(PeftAdapterWriter.PREFIX.length()) : module, module);
            }
        }
        if (modules.isEmpty()) {
            throw new ModelException(weightsFile + ": no lora_A tensor");
        }
        Map<String, Linear> linears = new LinkedHashMap<>();
        model.linears().forEach(l -> linears.put(l.name(), l));
        for (Map.Entry<String, String> m : modules.entrySet()) {
            Linear lin = linears.get(m.getKey());
            if (lin == null) {
                throw new ModelException(weightsFile + ": adapts " + m.getKey() + ", which the base model does not have");
            }
            if (lin.weight() == null) {
                throw new ModelException(m.getKey() + " is held in 4 bits: merge the adapter into a base model loaded as is");
            }
            FloatTensor a = file.read(m.getValue() + ".lora_A.weight");
            FloatTensor b = file.read(m.getValue() + ".lora_B.weight");
            long out = lin.outFeatures();
            long in = lin.inFeatures();
            if (a.shape()[0] != r || a.shape()[1] != in || b.shape()[0] != out || b.shape()[1] != r) {
                throw new ModelException(weightsFile + ": " + m.getKey() + " lora_A/lora_B shapes do not match r=" + r
                        + " and the base weight [" + out + ", " + in + "]");
            }
            try (NDManager sub = model.manager().newSubManager()) {
                model.attachTo(sub);
                Parameter pa = parameter(sub, m.getValue() + ".lora_A.weight", a);
                Parameter pb = parameter(sub, m.getValue() + ".lora_B.weight", b);
                LoraAdapter adapter;
                if (dora) {
                    String mag = m.getValue() + ".lora_magnitude_vector";
                    String key = file.tensors().containsKey(mag) ? mag : mag + ".weight";
                    adapter = new DoraAdapter(pa, pb, parameter(sub, key, file.read(key)), s);
                } else {
                    adapter = new LoraAdapter(pa, pb, s);
                }
                OwnedArrays.copyInto(lin.weight().array(), adapter.mergedWeight(lin).toFloatArray());
            }
        }
        return modules.size();
    }

    private static Parameter parameter(NDManager manager, String name, FloatTensor t) {
        return new Parameter(name, OwnedArrays.create(manager, t.data(), new Shape(t.shape())));
    }
}
