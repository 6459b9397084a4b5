package io.finetune.trainer.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.io.FloatTensor;
import io.finetune.trainer.io.SafetensorsFile;
import io.finetune.trainer.model.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Folds a PEFT LoRA/DoRA adapter directory (as {@link PeftAdapterWriter} writes it) into base weights on the host, as PEFT's
 * {@code merge_and_unload} does: W' = W + s·B·A with s = alpha/r (alpha/sqrt(r) with rsLoRA); DoRA then rescales each
 * output row to its magnitude: W' = m · V / ||V||_row with V = W + s·B·A.
 */
public final class AdapterMerge {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterMerge() {
    }

    /** Returns how many modules were merged into {@code weights} (HF names, modified in place). */
    public static int mergeInto(Map<String, FloatTensor> weights, Path adapterDir) throws IOException {
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
        for (Map.Entry<String, String> m : modules.entrySet()) {
            String baseName = m.getKey() + ".weight";
            FloatTensor w = weights.get(baseName);
            if (w == null) {
                throw new ModelException(weightsFile + ": adapts " + m.getKey() + ", which the base model does not have");
            }
            FloatTensor a = file.read(m.getValue() + ".lora_A.weight");
            FloatTensor b = file.read(m.getValue() + ".lora_B.weight");
            int out = (int) w.shape()[0];
            int in = (int) w.shape()[1];
            if (a.shape()[0] != r || a.shape()[1] != in || b.shape()[0] != out || b.shape()[1] != r) {
                throw new ModelException(weightsFile + ": " + m.getKey() + " lora_A/lora_B shapes do not match r=" + r
                        + " and the base weight [" + out + ", " + in + "]");
            }
            float[] v = w.data().clone();
            for (int i = 0; i < out; i++) {
                for (int k = 0; k < r; k++) {
                    float bik = (float) (s * b.data()[i * r + k]);
                    if (bik != 0f) {
                        for (int j = 0; j < in; j++) {
                            v[i * in + j] += bik * a.data()[k * in + j];
                        }
                    }
                }
            }
            String mag = m.getValue() + ".lora_magnitude_vector";
            if (c.path("use_dora").asBoolean(false)) {
                String key = file.tensors().containsKey(mag) ? mag : mag + ".weight";
                float[] magnitude = file.read(key).data();
                for (int i = 0; i < out; i++) {
                    double norm = 0;
                    for (int j = 0; j < in; j++) {
                        norm += (double) v[i * in + j] * v[i * in + j];
                    }
                    float scale = (float) (magnitude[i] / Math.sqrt(norm));
                    for (int j = 0; j < in; j++) {
                        v[i * in + j] *= scale;
                    }
                }
            }
            weights.put(baseName, new FloatTensor(w.shape(), v));
        }
        return modules.size();
    }
}
