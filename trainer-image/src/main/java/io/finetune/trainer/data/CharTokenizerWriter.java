package io.finetune.trainer.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a character-level Hugging Face tokenizer, so tests and the quick start need no downloaded vocabulary.
 *
 * <p>Ids: 0 {@code <pad>}, 1 {@code <s>}, 2 {@code </s>}, 3 {@code <unk>}, then one token per alphabet character in
 * order; with a chat template, the role markers {@code <|system|>}, {@code <|user|>}, {@code <|assistant|>} follow as
 * special tokens. tokenizer.json is a WordLevel model behind a pre-tokenizer that isolates every character
 * ({@code [\s\S]}, so spaces and newlines are tokens too) and a Fuse decoder that concatenates them back without
 * separators; characters outside the alphabet encode as {@code <unk>}.
 */
public final class CharTokenizerWriter {
    public static final String PAD = "<pad>";
    public static final String BOS = "<s>";
    public static final String EOS = "</s>";
    public static final String UNK = "<unk>";
    public static final List<String> ROLE_MARKERS = List.of("<|system|>", "<|user|>", "<|assistant|>");

    /**
     * Each message is its role marker followed by its content; an assistant turn ends with eos, which is what the model
     * learns to emit to stop. The generation prompt is the assistant marker.
     */
    public static final String CHAT_TEMPLATE = "{{ bos_token }}"
            + "{% for message in messages %}"
            + "{{ '<|' + message['role'] + '|>' + message['content'] }}"
            + "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CharTokenizerWriter() {}

    public static void write(Path dir, String alphabet, boolean withChatTemplate) throws IOException {
        List<String> chars = characters(alphabet);
        List<String> specials = new ArrayList<>(List.of(PAD, BOS, EOS, UNK));
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : specials) {
            vocab.put(s, vocab.size());
        }
        for (String c : chars) {
            vocab.put(c, vocab.size());
        }
        if (withChatTemplate) {
            for (String marker : ROLE_MARKERS) {
                vocab.put(marker, vocab.size());
                specials.add(marker);
            }
        }
        List<Map<String, Object>> addedTokens = new ArrayList<>();
        for (String s : specials) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", vocab.get(s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
            addedTokens.add(t);
        }

        Map<String, Object> tokenizer = new LinkedHashMap<>();
        tokenizer.put("version", "1.0");
        tokenizer.put("truncation", null);
        tokenizer.put("padding", null);
        tokenizer.put("added_tokens", addedTokens);
        tokenizer.put("normalizer", null);
        tokenizer.put("pre_tokenizer", Map.of("type", "Split", "pattern", Map.of("Regex", "[\\s\\S]"),
                "behavior", "Isolated", "invert", false));
        tokenizer.put("post_processor", null);
        tokenizer.put("decoder", Map.of("type", "Fuse"));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordLevel");
        model.put("vocab", vocab);
        model.put("unk_token", UNK);
        tokenizer.put("model", model);

        Map<String, Object> specialMap = new LinkedHashMap<>();
        specialMap.put("bos_token", BOS);
        specialMap.put("eos_token", EOS);
        specialMap.put("pad_token", PAD);
        specialMap.put("unk_token", UNK);
        if (withChatTemplate) {
            specialMap.put("additional_special_tokens", ROLE_MARKERS);
        }
        Map<String, Object> config = new LinkedHashMap<>(specialMap);
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.put("clean_up_tokenization_spaces", false);
        config.put("model_max_length", 1_000_000);
        if (withChatTemplate) {
            config.put("chat_template", CHAT_TEMPLATE);
        }

        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve(TokenizerFiles.TOKENIZER_JSON).toFile(), tokenizer);
        JSON.writeValue(dir.resolve(TokenizerFiles.TOKENIZER_CONFIG).toFile(), config);
        JSON.writeValue(dir.resolve(TokenizerFiles.SPECIAL_TOKENS_MAP).toFile(), specialMap);
    }

    /** The alphabet's characters (code points), each once; a repeat would give one character two ids. */
    private static List<String> characters(String alphabet) {
        Set<String> seen = new LinkedHashSet<>();
        alphabet.codePoints().forEach(cp -> {
            String c = new String(Character.toChars(cp));
            if (!seen.add(c)) {
                throw new IllegalArgumentException("alphabet repeats the character '" + c + "'");
            }
        });
        if (seen.isEmpty()) {
            throw new IllegalArgumentException("alphabet is empty");
        }
        return new ArrayList<>(seen);
    }
}
