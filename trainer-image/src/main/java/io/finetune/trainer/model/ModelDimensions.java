package io.finetune.trainer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The sizes of a LLaMA-family decoder read from a Hugging Face config.json: all the memory plan needs.
 *
 * @param qkvBias q/k/v projections carry a bias (Qwen2, or {@code attention_bias: true})
 */
public record ModelDimensions(String modelType, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                              int numKeyValueHeads, int headDim, int vocabSize, boolean tiedEmbeddings, boolean qkvBias) {
    private static final Set<String> SUPPORTED = Set.of("llama", "qwen2", "mistral");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code config.json}; a missing or malformed field is an error naming the file and the key. */
    public static ModelDimensions read(Path configJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(configJson));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(configJson + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(configJson + ": expected a JSON object");
        }
        String type = root.path("model_type").asText("");
        if (!SUPPORTED.contains(type)) {
            throw new IllegalArgumentException(configJson + ": model_type '" + type + "' is not supported (supported: "
                    + SUPPORTED + ")");
        }
        int hidden = required(root, "hidden_size", configJson);
        int heads = required(root, "num_attention_heads", configJson);
        int kvHeads = root.has("num_key_value_heads") ? required(root, "num_key_value_heads", configJson) : heads;
        int headDim = root.hasNonNull("head_dim") ? required(root, "head_dim", configJson) : hidden / heads;
        boolean bias = "qwen2".equals(type) || root.path("attention_bias").asBoolean(false);
        return new ModelDimensions(type, hidden, required(root, "intermediate_size", configJson),
                required(root, "num_hidden_layers", configJson), heads, kvHeads, headDim,
                required(root, "vocab_size", configJson), root.path("tie_word_embeddings").asBoolean(false), bias);
    }

    private static int required(JsonNode root, String key, Path file) {
        JsonNode n = root.get(key);
        if (n == null || !n.canConvertToInt() || n.asInt() < 1) {
            throw new IllegalArgumentException(file + ": '" + key + "' must be a positive integer, got " + n);
        }
        return n.asInt();
    }

    /** A linear layer: weight (out, in), HF module name. */
    public record Linear(String name, long in, long out, boolean bias) {
        public long params() {
            return in * out + (bias ? out : 0);
        }
    }

    /** Every nn.Linear with its HF name, lm_head last (absent when tied to the embedding). */
    public List<Linear> linears() {
        long q = (long) numHeads * headDim;
        long kv = (long) numKeyValueHeads * headDim;
        List<Linear> out = new ArrayList<>();
        for (int i = 0; i < numLayers; i++) {
            String p = "model.layers." + i + ".";
            out.add(new Linear(p + "self_attn.q_proj", hiddenSize, q, qkvBias));
            out.add(new Linear(p + "self_attn.k_proj", hiddenSize, kv, qkvBias));
            out.add(new Linear(p + "self_attn.v_proj", hiddenSize, kv, qkvBias));
            out.add(new Linear(p + "self_attn.o_proj", q, hiddenSize, false));
            out.add(new Linear(p + "mlp.gate_proj", hiddenSize, intermediateSize, false));
            out.add(new Linear(p + "mlp.up_proj", hiddenSize, intermediateSize, false));
            out.add(new Linear(p + "mlp.down_proj", intermediateSize, hiddenSize, false));
        }
        if (!tiedEmbeddings) {
            out.add(new Linear("lm_head", hiddenSize, vocabSize, false));
        }
        return out;
    }

    /** Parameters outside the linears: embedding (vocab, hidden) and RMSNorm weights (2 per layer + final). */
    public long nonLinearParams() {
        return (long) vocabSize * hiddenSize + (2L * numLayers + 1) * hiddenSize;
    }

    /** Parameters of the 2-D weights (every linear's weight and the embedding): what mixed precision holds in 16 bits. */
    public long weightMatrixParams() {
        return (long) vocabSize * hiddenSize + linears().stream().mapToLong(l -> l.in() * l.out()).sum();
    }

    public long totalParams() {
        return nonLinearParams() + linears().stream().mapToLong(Linear::params).sum();
    }
}
