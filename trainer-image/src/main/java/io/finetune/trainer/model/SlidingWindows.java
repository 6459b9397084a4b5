package io.finetune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The sliding-window keys of config.json, read and written as transformers' configs define them, so that a layer is windowed
 * here exactly where transformers windows it:
 * <ul>
 *   <li>mistral (MistralConfig): {@code sliding_window} (default 4096; {@code null} turns it off) applies to every layer;</li>
 *   <li>qwen2 and qwen3 (Qwen2Config, Qwen3Config): only with {@code use_sliding_window} (default false); then layer i is
 *       windowed when {@code layer_types[i]} is {@code sliding_attention}, or, without {@code layer_types}, when
 *       i >= {@code max_window_layers} (default 28);</li>
 *   <li>phi3 (Phi3Config): {@code sliding_window} (default null: off) applies to every layer;</li>
 *   <li>gemma2 and gemma3_text (Gemma2Config, Gemma3TextConfig): {@code sliding_window} (default 4096) on the layers
 *       {@code layer_types} names {@code sliding_attention}, or, without it, every layer but each
 *       {@code sliding_window_pattern}-th (Gemma 2: 2, alternating from a sliding layer 0; Gemma 3: default 6);</li>
 *   <li>llama: no window.</li>
 * </ul>
 */
record SlidingWindows(int size, List<LayerAttention> layerTypes) {

    static SlidingWindows none(int layers) {
        return new SlidingWindows(0, Collections.nCopies(layers, LayerAttention.FULL));
    }

    static SlidingWindows read(JsonNode n, Path file, ModelFamily family, int layers) {
        switch (family) {
            case LLAMA:
                return none(layers);
            case MISTRAL:
            case PHI3: {
                int size = family == ModelFamily.PHI3 && !n.has("sliding_window") ? 0 : window(n, file);
                return size == 0 ? none(layers) : new SlidingWindows(size, Collections.nCopies(layers, LayerAttention.SLIDING));
            }
            case GEMMA2:
            case GEMMA3_TEXT: {
                List<LayerAttention> types = gemmaLayerTypes(n, file, family, layers);
                int size = window(n, file);
                if (size == 0 && types.contains(LayerAttention.SLIDING)) {
                    throw new ModelException(file + ": 'sliding_window' is null but " + family.modelType()
                            + " has sliding_attention layers; set it to the window");
                }
                return new SlidingWindows(size, types);
            }
            case QWEN2:
            case QWEN3: {
                JsonNode use = n.path("use_sliding_window");
                if (!use.isMissingNode() && !use.isNull() && !use.isBoolean()) {
                    throw new ModelException(file + ": 'use_sliding_window' must be true or false, got " + use);
                }
                int size = use.asBoolean(false) ? window(n, file) : 0;
                if (size == 0) {
                    return none(layers);
                }
                return new SlidingWindows(size, qwenLayerTypes(n, file, layers));
            }
            default:
                throw new IllegalStateException(family.toString());
        }
    }

    /** sliding_window: absent -> transformers' default 4096, null -> 0 (off), else a positive integer. */
    private static int window(JsonNode n, Path file) {
        JsonNode w = n.get("sliding_window");
        if (w == null) {
            return ModelConfig.DEFAULT_SLIDING_WINDOW;
        }
        if (w.isNull()) {
            return 0;
        }
        if (!w.canConvertToInt() || !w.isIntegralNumber() || w.asInt() <= 0) {
            throw new ModelException(file + ": 'sliding_window' must be a positive integer or null, got " + w);
        }
        return w.asInt();
    }

    /** layer_types when present, else transformers' pattern: layer i slides unless (i + 1) % pattern == 0. */
    private static List<LayerAttention> gemmaLayerTypes(JsonNode n, Path file, ModelFamily family, int layers) {
        List<LayerAttention> listed = listedLayerTypes(n, file, layers);
        if (listed != null) {
            return listed;
        }
        int pattern = 2;
        if (family == ModelFamily.GEMMA3_TEXT) {
            JsonNode p = n.get("sliding_window_pattern");
            if (p != null && (!p.isIntegralNumber() || p.asInt() <= 0)) {
                throw new ModelException(file + ": 'sliding_window_pattern' must be a positive integer, got " + p);
            }
            pattern = p == null ? 6 : p.asInt();
        }
        List<LayerAttention> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            out.add((i + 1) % pattern != 0 ? LayerAttention.SLIDING : LayerAttention.FULL);
        }
        return out;
    }

    /** config.json's layer_types, or null when absent. */
    private static List<LayerAttention> listedLayerTypes(JsonNode n, Path file, int layers) {
        JsonNode types = n.get("layer_types");
        if (types == null || types.isNull()) {
            return null;
        }
        if (!types.isArray() || types.size() != layers) {
            throw new ModelException(file + ": 'layer_types' must be a list of " + layers + " entries (one per layer), got "
                    + types);
        }
        List<LayerAttention> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String t = types.get(i).asText();
            int layer = i;
            out.add(LayerAttention.of(t).orElseThrow(() -> new ModelException(file + ": 'layer_types'[" + layer + "] is '"
                    + t + "'; expected full_attention or sliding_attention")));
        }
        return out;
    }

    private static List<LayerAttention> qwenLayerTypes(JsonNode n, Path file, int layers) {
        List<LayerAttention> listed = listedLayerTypes(n, file, layers);
        if (listed != null) {
            return listed;
        }
        List<LayerAttention> out = new ArrayList<>();
        JsonNode m = n.get("max_window_layers");
        if (m != null && (!m.isIntegralNumber() || m.asInt() < 0)) {
            throw new ModelException(file + ": 'max_window_layers' must be a non-negative integer, got " + m);
        }
        int first = m == null ? ModelConfig.DEFAULT_MAX_WINDOW_LAYERS : m.asInt();
        for (int i = 0; i < layers; i++) {
            out.add(i >= first ? LayerAttention.SLIDING : LayerAttention.FULL);
        }
        return out;
    }

    /** Writes the keys {@link #read} reads back to the same windows (and transformers reads the same way). */
    static void write(ModelConfig c, ObjectNode n) {
        switch (c.family()) {
            case LLAMA:
                return;
            case GEMMA2:
            case GEMMA3_TEXT: {
                if (c.slidingWindow() > 0) {
                    n.put("sliding_window", c.slidingWindow());
                } else {
                    n.putNull("sliding_window");
                }
                ArrayNode types = n.putArray("layer_types");
                c.layerTypes().forEach(t -> types.add(t.hfName()));
                return;
            }
            case MISTRAL:
            case PHI3:
                if (c.slidingWindow() > 0) {
                    n.put("sliding_window", c.slidingWindow());
                } else {
                    n.putNull("sliding_window");
                }
                return;
            case QWEN2:
            case QWEN3: {
                boolean on = c.layerTypes().contains(LayerAttention.SLIDING);
                n.put("use_sliding_window", on);
                if (on) {
                    n.put("sliding_window", c.slidingWindow());
                } else {
                    n.putNull("sliding_window");
                }
                int first = c.layerTypes().indexOf(LayerAttention.SLIDING);
                n.put("max_window_layers", first < 0 ? c.numHiddenLayers() : first);
                ArrayNode types = n.putArray("layer_types");
                c.layerTypes().forEach(t -> types.add(t.hfName()));
                return;
            }
            default:
                throw new IllegalStateException(c.family().toString());
        }
    }
}
