package io.finetune.trainer.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parts of a Hugging Face tokenizer directory the native binding does not expose: the token -> id table
 * (tokenizer.json model vocab + added_tokens), the special tokens and the chat template (tokenizer_config.json, then
 * special_tokens_map.json).
 */
record TokenizerFiles(Map<String, Integer> vocab, int vocabSize, Optional<String> bosToken, Optional<String> eosToken,
                      Optional<String> padToken, Optional<String> chatTemplate) {

    static final String TOKENIZER_JSON = "tokenizer.json";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";

    /** Used only when the directory has no tokenizer_config.json / special_tokens_map.json naming them. */
    private static final List<String> BOS_GUESSES = List.of("<s>", "<|begin_of_text|>", "<bos>");
    private static final List<String> EOS_GUESSES = List.of("</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");

    private static final ObjectMapper JSON = new ObjectMapper();

    static TokenizerFiles read(Path tokenizerJson) throws IOException {
        JsonNode root = readJson(tokenizerJson);
        Map<String, Integer> vocab = new HashMap<>();
        JsonNode modelVocab = root.path("model").path("vocab");
        if (modelVocab.isObject()) {            // BPE, WordLevel, WordPiece: {"token": id}
            for (Iterator<Map.Entry<String, JsonNode>> it = modelVocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                vocab.put(e.getKey(), e.getValue().asInt());
            }
        } else if (modelVocab.isArray()) {      // Unigram: [["piece", score], ...], id = index
            for (int i = 0; i < modelVocab.size(); i++) {
                vocab.put(modelVocab.get(i).path(0).asText(), i);
            }
        } else {
            throw new IOException(tokenizerJson + ": no model.vocab (not a Hugging Face tokenizer.json?)");
        }
        for (JsonNode added : root.path("added_tokens")) {
            vocab.put(added.path("content").asText(), added.path("id").asInt());
        }
        int vocabSize = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;

        Path dir = tokenizerJson.toAbsolutePath().getParent();
        JsonNode config = optionalJson(dir.resolve(TOKENIZER_CONFIG));
        JsonNode specials = optionalJson(dir.resolve(SPECIAL_TOKENS_MAP));
        boolean named = config != null || specials != null;
        Optional<String> bos = special("bos_token", config, specials);
        Optional<String> eos = special("eos_token", config, specials);
        Optional<String> pad = special("pad_token", config, specials);
        if (!named) {
            bos = BOS_GUESSES.stream().filter(vocab::containsKey).findFirst();
            eos = EOS_GUESSES.stream().filter(vocab::containsKey).findFirst();
        }
        return new TokenizerFiles(Map.copyOf(vocab), vocabSize, bos, eos, pad, chatTemplate(config));
    }

    /** A special token is either "text" or an AddedToken object {"content": "text", ...}; null means none. */
    private static Optional<String> special(String key, JsonNode config, JsonNode specials) {
        for (JsonNode source : new JsonNode[] {config, specials}) {
            if (source == null || !source.has(key) || source.get(key).isNull()) {
                continue;
            }
            JsonNode v = source.get(key);
            String text = v.isObject() ? v.path("content").asText(null) : v.asText(null);
            if (text != null && !text.isEmpty()) {
                return Optional.of(text);
            }
        }
        return Optional.empty();
    }

    /** chat_template is a string, or a list of {name, template} where "default" is the one for plain chats. */
    private static Optional<String> chatTemplate(JsonNode config) {
        if (config == null) {
            return Optional.empty();
        }
        JsonNode t = config.get("chat_template");
        if (t == null || t.isNull()) {
            return Optional.empty();
        }
        if (t.isTextual()) {
            return Optional.of(t.asText());
        }
        for (JsonNode named : t) {
            if ("default".equals(named.path("name").asText())) {
                return Optional.of(named.path("template").asText());
            }
        }
        return Optional.empty();
    }

    private static JsonNode optionalJson(Path file) throws IOException {
        return Files.isRegularFile(file) ? readJson(file) : null;
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
