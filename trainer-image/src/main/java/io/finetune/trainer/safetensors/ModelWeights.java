package io.finetune.trainer.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The weights of a Hugging Face model directory: model.safetensors, or shards listed by model.safetensors.index.json. */
public final class ModelWeights {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final Map<String, TensorInfo> tensors;

    private ModelWeights(Path dir, Map<String, TensorInfo> tensors) {
        this.dir = dir;
        this.tensors = tensors;
    }

    public static ModelWeights open(Path dir) throws IOException {
        Path index = dir.resolve(INDEX);
        Map<String, TensorInfo> all = new LinkedHashMap<>();
        if (Files.isRegularFile(index)) {
            JsonNode map;
            try {
                map = new ObjectMapper().readTree(index.toFile()).path("weight_map");
            } catch (IOException e) {
                throw new SafetensorsException(index + ": not valid JSON: " + e.getMessage());
            }
            if (!map.isObject() || map.isEmpty()) {
                throw new SafetensorsException(index + ": has no \"weight_map\" object");
            }
            Map<String, SafetensorsFile> shards = new HashMap<>();
            for (var it = map.fields(); it.hasNext(); ) {
                var e = it.next();
                String shardName = e.getValue().asText();
                Path shardPath = dir.resolve(shardName).normalize();
                if (!shardPath.startsWith(dir.normalize()) || !Files.isRegularFile(shardPath)) {
                    throw new SafetensorsException(index + ": tensor '" + e.getKey() + "' maps to shard '" + shardName
                            + "', which is not a file in " + dir);
                }
                SafetensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    shard = SafetensorsFile.open(shardPath);
                    shards.put(shardName, shard);
                }
                TensorInfo info = shard.tensors().get(e.getKey());
                if (info == null) {
                    throw new SafetensorsException(shardPath + ": tensor '" + e.getKey() + "' listed in " + INDEX + " is missing");
                }
                all.put(e.getKey(), info);
            }
        } else if (Files.isRegularFile(dir.resolve(SINGLE))) {
            all.putAll(SafetensorsFile.open(dir.resolve(SINGLE)).tensors());
        } else {
            throw new SafetensorsException(dir + ": no " + SINGLE + " or " + INDEX + " (only safetensors weights are supported)");
        }
        return new ModelWeights(dir, all);
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Reads a tensor as fp32 and checks its shape; a missing tensor or wrong shape names the tensor and directory. */
    public FloatTensor read(String name, long... expectedShape) throws IOException {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafetensorsException(dir + ": missing tensor '" + name + "'");
        }
        if (!java.util.Arrays.equals(info.shape(), expectedShape)) {
            throw new SafetensorsException(info.file() + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(info.shape())
                    + ", config.json implies " + java.util.Arrays.toString(expectedShape));
        }
        FloatTensor t = SafetensorsFile.read(info);
        float[] data = t.data();
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                // A base weight of NaN/Inf would only surface as a diverged loss at step 1, blamed on the learning rate.
                throw new SafetensorsException(info.file() + ": tensor '" + name + "' holds " + data[i] + " at element " + i
                        + ": the weights are corrupt (re-download or re-export the model)");
            }
        }
        return t;
    }
}
