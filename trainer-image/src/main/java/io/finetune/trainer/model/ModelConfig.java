package io.finetune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The one description of a model: its Hugging Face {@code config.json}, read by one reader ({@link #read}) with one supported
 * set and one rule per key, and used by loading, the memory plan, the preflight and target resolution alike, so that a model
 * the plan or the preflight passes is one that training loads. The decoder is the LLaMA block in the variants of
 * {@link ModelFamily} (llama, qwen2 with q/k/v bias, mistral, qwen3 with per-head q/k norms, phi3 with fused projections,
 * gemma2 and gemma3_text with Gemma's block); sliding-window attention is honoured per layer ({@code layerTypes},
 * {@code slidingWindow}; 0 when no layer is windowed); what Phi-3 and Gemma add is in {@link FamilyOptions}.
 */
public record ModelConfig(
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int vocabSize,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        int maxPositionEmbeddings,
        int slidingWindow,
        List<LayerAttention> layerTypes,
        FamilyOptions options) {

    /** The model_type values the trainer loads (one per {@link ModelFamily}). */
    public static final Set<String> SUPPORTED = Set.copyOf(ModelFamily.modelTypes());
    /** transformers' default window (MistralConfig, Qwen2Config, Qwen3Config: sliding_window=4096). */
    static final int DEFAULT_SLIDING_WINDOW = 4096;
    /** transformers' default max_window_layers (Qwen2Config, Qwen3Config): layers below it attend fully. */
    static final int DEFAULT_MAX_WINDOW_LAYERS = 28;
    public static final String FILE_NAME = "config.json";
    /** The output projection's module name (excluded by all-linear, as PEFT does). */
    public static final String LM_HEAD = "lm_head";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public ModelConfig {
        if (ModelFamily.of(modelType).isEmpty()) {
            throw new ModelException("model_type '" + modelType + "' is not supported; supported: " + ModelFamily.modelTypes());
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new ModelException("num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads "
                    + numKeyValueHeads);
        }
        layerTypes = List.copyOf(layerTypes);
        if (layerTypes.size() != numHiddenLayers) {
            throw new ModelException("layer_types has " + layerTypes.size() + " entries for " + numHiddenLayers + " layers");
        }
        if (layerTypes.contains(LayerAttention.SLIDING) && slidingWindow <= 0) {
            throw new ModelException("layer_types has sliding_attention layers but sliding_window is " + slidingWindow);
        }
        if (options.rotaryDim(headDim) % 2 != 0) {
            throw new ModelException("the rotary dimension head_dim " + headDim + " x partial_rotary_factor "
                    + options.partialRotaryFactor() + " = " + options.rotaryDim(headDim) + " is odd (RoPE rotates pairs)");
        }
    }

    /** A config with the LLaMA block's options ({@link FamilyOptions#LLAMA}). */
    public ModelConfig(String modelType, int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
            int numKeyValueHeads, int headDim, double rmsNormEps, double ropeTheta, RopeScaling ropeScaling, int vocabSize,
            boolean tieWordEmbeddings, boolean attentionBias, int maxPositionEmbeddings, int slidingWindow,
            List<LayerAttention> layerTypes) {
        this(modelType, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, vocabSize, tieWordEmbeddings, attentionBias, maxPositionEmbeddings,
                slidingWindow, layerTypes, FamilyOptions.LLAMA);
    }

    /** A config whose every layer attends fully (no sliding window). */
    public ModelConfig(String modelType, int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
            int numKeyValueHeads, int headDim, double rmsNormEps, double ropeTheta, RopeScaling ropeScaling, int vocabSize,
            boolean tieWordEmbeddings, boolean attentionBias, int maxPositionEmbeddings) {
        this(modelType, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, vocabSize, tieWordEmbeddings, attentionBias, maxPositionEmbeddings, 0,
                Collections.nCopies(numHiddenLayers, LayerAttention.FULL), FamilyOptions.LLAMA);
    }

    public ModelFamily family() {
        return ModelFamily.of(modelType).orElseThrow();
    }

    /** The window layer {@code i} attends within (itself and the window-1 tokens before it), or empty for full attention. */
    public OptionalInt windowOf(int layer) {
        return layerTypes.get(layer) == LayerAttention.SLIDING ? OptionalInt.of(slidingWindow) : OptionalInt.empty();
    }

    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    /** Reads {@code <modelDir>/config.json}. */
    public static ModelConfig read(Path modelDir) {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new ModelException(modelDir + ": no config.json (expected a Hugging Face model directory)");
        }
        return readFile(file);
    }

    /** Reads a config.json by its own path (the plan takes one alone); every error names the file and the key. */
    public static ModelConfig readFile(Path file) {
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelException(file + ": cannot be read: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new ModelException(file + ": expected a JSON object");
        }
        String type = n.path("model_type").asText("");
        ModelFamily family = ModelFamily.of(type).orElseThrow(() -> new ModelException(file + ": model_type '" + type
                + "' (architectures " + n.path("architectures") + ") is not supported; supported: "
                + ModelFamily.modelTypes()));
        FamilyOptions options = FamilyOptions.read(n, file, family);
        int hidden = required(n, file, "hidden_size");
        int heads = required(n, file, "num_attention_heads");
        RopeScaling scaling = readRopeScaling(n, file);
        if (family.gemmaBlock() && n.path("attention_bias").asBoolean(false)) {
            throw new ModelException(file + ": 'attention_bias' true is not supported for " + type
                    + " (its o_proj bias is not loaded)");
        }
        int layers = required(n, file, "num_hidden_layers");
        SlidingWindows windows = SlidingWindows.read(n, file, family, layers);
        int kvHeads = n.has("num_key_value_heads") ? required(n, file, "num_key_value_heads") : heads;
        // Qwen3Config's head_dim defaults to 128, Gemma's to 256; the others derive it from hidden_size / num_attention_heads.
        int headDim = n.hasNonNull("head_dim") ? required(n, file, "head_dim")
                : family == ModelFamily.QWEN3 ? 128 : family.gemmaBlock() ? 256 : hidden / heads;
        // Phi-3's qkv_proj has no bias whatever attention_bias says; Gemma ties its embeddings and Gemma 3's global base is 1e6.
        boolean bias = family.alwaysQkvBias() || (family != ModelFamily.PHI3 && n.path("attention_bias").asBoolean(false));
        try {
            return new ModelConfig(type, hidden, required(n, file, "intermediate_size"), layers,
                    heads, kvHeads, headDim,
                    n.path("rms_norm_eps").asDouble(family == ModelFamily.PHI3 ? 1e-5 : 1e-6),
                    n.path("rope_theta").asDouble(family == ModelFamily.GEMMA3_TEXT ? 1_000_000.0 : 10000.0), scaling,
                    required(n, file, "vocab_size"), n.path("tie_word_embeddings").asBoolean(family.gemmaBlock()), bias,
                    n.path("max_position_embeddings").asInt(2048), windows.size(), windows.layerTypes(), options);
        } catch (ModelException e) { // a rule across keys (heads vs kv heads, the rotary dim): name the file as well
            throw new ModelException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * rope_scaling: null or type default (none), llama3, or linear; every other type (Phi-3's longrope and su, yarn,
     * dynamic, ...) is refused, naming the key and the value: computing plain RoPE for them would be silently wrong.
     */
    private static RopeScaling readRopeScaling(JsonNode n, Path file) {
        JsonNode rs = n.path("rope_scaling");
        if (!rs.isObject()) {
            return null;
        }
        String key = rs.has("rope_type") ? "rope_type" : "type";
        String kind = rs.path(key).asText();
        switch (kind) {
            case "default":
                return null;
            case "llama3":
                return new RopeScaling(rs.path("factor").asDouble(8), rs.path("low_freq_factor").asDouble(1),
                        rs.path("high_freq_factor").asDouble(4), rs.path("original_max_position_embeddings").asInt(8192));
            case "linear": {
                JsonNode f = rs.get("factor");
                if (f == null || !f.isNumber() || !(f.asDouble() >= 1)) {
                    throw new ModelException(file + ": 'rope_scaling.factor' must be a number >= 1 for linear, got " + f);
                }
                return RopeScaling.linear(f.asDouble());
            }
            default:
                throw new ModelException(file + ": 'rope_scaling." + key + "' is '" + kind
                        + "', which is not supported (supported: default, linear, llama3)");
        }
    }

    private static int required(JsonNode n, Path file, String key) {
        JsonNode v = n.get(key);
        if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new ModelException(file + ": '" + key + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    /** Writes config.json as transformers' ModelConfig.to_json_string would (the keys a loader reads). */
    public void write(Path modelDir, int bosId, int eosId) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(family().architecture());
        n.put("attention_bias", attentionBias);
        n.put("attention_dropout", 0.0);
        n.put("bos_token_id", bosId);
        n.put("eos_token_id", eosId);
        n.put("head_dim", headDim);
        options.write(n, family());
        n.put("hidden_size", hiddenSize);
        n.put("initializer_range", 0.02);
        n.put("intermediate_size", intermediateSize);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("mlp_bias", false);
        n.put("model_type", modelType);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("rms_norm_eps", rmsNormEps);
        if (ropeScaling == null) {
            n.putNull("rope_scaling");
        } else if (ropeScaling.type() == RopeScaling.Type.LINEAR) {
            n.putObject("rope_scaling").put("factor", ropeScaling.factor()).put("rope_type", "linear");
        } else {
            ObjectNode rs = n.putObject("rope_scaling");
            rs.put("factor", ropeScaling.factor());
            rs.put("high_freq_factor", ropeScaling.highFreqFactor());
            rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
            rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            rs.put("rope_type", "llama3");
        }
        n.put("rope_theta", ropeTheta);
        SlidingWindows.write(this, n);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("torch_dtype", "float32");
        n.put("use_cache", true);
        n.put("vocab_size", vocabSize);
        Files.writeString(modelDir.resolve("config.json"), JSON.writeValueAsString(n) + "\n");
    }

    /** A linear layer's shape: weight (out, in), HF module name. */
    public record LinearShape(String name, long in, long out, boolean bias) {
        public long params() {
            return in * out + (bias ? out : 0);
        }
    }

    /**
     * Every nn.Linear with its HF name, in model order, lm_head last (absent when tied to the embedding): the one list of a
     * layer's linear modules, which the model's loader, the plan and target resolution all follow.
     */
    public List<LinearShape> linears() {
        List<LinearShape> out = new ArrayList<>();
        for (int i = 0; i < numHiddenLayers; i++) {
            out.addAll(layerLinears(i));
        }
        if (!tieWordEmbeddings) {
            out.add(new LinearShape(LM_HEAD, hiddenSize, vocabSize, false));
        }
        return out;
    }

    /**
     * The linear modules of decoder layer {@code i}, in HF order: attention q, k, v, o, then the MLP's gate, up, down; for
     * Phi-3 the fused qkv_proj (q, k, v rows stacked), o_proj, gate_up_proj (gate rows, then up), down_proj.
     */
    public List<LinearShape> layerLinears(int i) {
        long q = (long) numAttentionHeads * headDim;
        long kv = kvDim();
        String p = layerPrefix(i);
        if (family().fusedProjections()) {
            return List.of(new LinearShape(p + "self_attn.qkv_proj", hiddenSize, q + 2 * kv, false),
                    new LinearShape(p + "self_attn.o_proj", q, hiddenSize, false),
                    new LinearShape(p + "mlp.gate_up_proj", hiddenSize, 2L * intermediateSize, false),
                    new LinearShape(p + "mlp.down_proj", intermediateSize, hiddenSize, false));
        }
        return List.of(new LinearShape(p + "self_attn.q_proj", hiddenSize, q, attentionBias),
                new LinearShape(p + "self_attn.k_proj", hiddenSize, kv, attentionBias),
                new LinearShape(p + "self_attn.v_proj", hiddenSize, kv, attentionBias),
                new LinearShape(p + "self_attn.o_proj", q, hiddenSize, false),
                new LinearShape(p + "mlp.gate_proj", hiddenSize, intermediateSize, false),
                new LinearShape(p + "mlp.up_proj", hiddenSize, intermediateSize, false),
                new LinearShape(p + "mlp.down_proj", intermediateSize, hiddenSize, false));
    }

    /** The HF name prefix of decoder layer {@code i}. */
    public static String layerPrefix(int i) {
        return "model.layers." + i + ".";
    }

    /** Parameters outside the linears: embedding (vocab, hidden), RMSNorm weights (2 per layer, Gemma 4, + final), q/k norms. */
    public long nonLinearParams() {
        long qkNorms = family().qkNorm() ? 2L * numHiddenLayers * headDim : 0;
        long normsPerLayer = family().gemmaBlock() ? 4 : 2;
        return (long) vocabSize * hiddenSize + (normsPerLayer * numHiddenLayers + 1) * hiddenSize + qkNorms;
    }

    /** Parameters of the 2-D weights (every linear's weight and the embedding): what mixed precision holds in 16 bits. */
    public long weightMatrixParams() {
        return (long) vocabSize * hiddenSize + linears().stream().mapToLong(l -> l.in() * l.out()).sum();
    }

    public long totalParams() {
        return nonLinearParams() + linears().stream().mapToLong(LinearShape::params).sum();
    }
}
