package io.finetune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The LLaMA-family hyper-parameters this trainer uses, read from a Hugging Face config.json (llama, qwen2, mistral). */
public record LlamaConfig(
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
        int maxPositionEmbeddings) {

    /** model_type values whose decoder is the LLaMA block (Qwen2 adds q/k/v bias; Mistral without sliding window). */
    public static final Set<String> SUPPORTED = Set.of("llama", "qwen2", "mistral");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public LlamaConfig {
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new ModelException("num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads "
                    + numKeyValueHeads);
        }
    }

    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    public static LlamaConfig read(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelException(modelDir + ": no config.json (expected a Hugging Face model directory)");
        }
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        String type = n.path("model_type").asText("");
        if (!SUPPORTED.contains(type)) {
            throw new ModelException(file + ": model_type '" + type + "' (architectures " + n.path("architectures")
                    + ") is not supported; supported: " + SUPPORTED.stream().sorted().toList());
        }
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new ModelException(file + ": hidden_act '" + act + "' is not supported (LLaMA uses silu)");
        }
        int hidden = required(n, file, "hidden_size");
        int heads = required(n, file, "num_attention_heads");
        RopeScaling scaling = null;
        JsonNode rs = n.path("rope_scaling");
        if (rs.isObject()) {
            String kind = rs.has("rope_type") ? rs.path("rope_type").asText() : rs.path("type").asText();
            if (kind.equals("llama3")) {
                scaling = new RopeScaling(rs.path("factor").asDouble(8), rs.path("low_freq_factor").asDouble(1),
                        rs.path("high_freq_factor").asDouble(4), rs.path("original_max_position_embeddings").asInt(8192));
            } else if (!kind.equals("default")) {
                throw new ModelException(file + ": rope_scaling type '" + kind + "' is not supported (supported: llama3)");
            }
        }
        if (n.path("sliding_window").isNumber() && n.path("use_sliding_window").asBoolean(type.equals("mistral"))) {
            throw new ModelException(file + ": sliding-window attention is not supported");
        }
        return new LlamaConfig(type, hidden, required(n, file, "intermediate_size"), required(n, file, "num_hidden_layers"),
                heads, n.path("num_key_value_heads").asInt(heads), n.path("head_dim").asInt(hidden / heads),
                n.path("rms_norm_eps").asDouble(1e-6), n.path("rope_theta").asDouble(10000.0), scaling,
                required(n, file, "vocab_size"), n.path("tie_word_embeddings").asBoolean(false),
                type.equals("qwen2") || n.path("attention_bias").asBoolean(false),
                n.path("max_position_embeddings").asInt(2048));
    }

    private static int required(JsonNode n, Path file, String key) {
        JsonNode v = n.get(key);
        if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new ModelException(file + ": '" + key + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    /** Writes config.json as transformers' LlamaConfig.to_json_string would (the keys a loader reads). */
    public void write(Path modelDir, int bosId, int eosId) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(modelType.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        n.put("attention_bias", attentionBias);
        n.put("attention_dropout", 0.0);
        n.put("bos_token_id", bosId);
        n.put("eos_token_id", eosId);
        n.put("head_dim", headDim);
        n.put("hidden_act", "silu");
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
        } else {
            ObjectNode rs = n.putObject("rope_scaling");
            rs.put("factor", ropeScaling.factor());
            rs.put("high_freq_factor", ropeScaling.highFreqFactor());
            rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
            rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            rs.put("rope_type", "llama3");
        }
        n.put("rope_theta", ropeTheta);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("torch_dtype", "float32");
        n.put("use_cache", true);
        n.put("vocab_size", vocabSize);
        Files.writeString(modelDir.resolve("config.json"), JSON.writeValueAsString(n) + "\n");
    }

    /** Linear module suffixes in one decoder layer, in HF order. */
    public static final List<String> LAYER_LINEARS = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");
}
