package io.finetune.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import io.finetune.api.v1alpha1.DatasetFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Turns one JSONL record into token ids and labels:
 * text -> [bos] text [eos], loss everywhere; prompt-completion -> [bos] prompt completion [eos], loss on completion and
 * eos; chat -> the chat template's rendering, loss on assistant turns only.
 *
 * <p>The ids are always the tokenizer's encoding of the whole text (prompt + completion, or the whole rendered chat), which
 * is what the model sees at inference: a SentencePiece tokenizer prepends {@code ▁} to every call, so encoding the
 * completion on its own would give its first token a form the model never meets after the prompt. Loss starts at the
 * first token where that encoding departs from the encoding of the text before the boundary. When the boundary falls on
 * a token boundary (the usual case: SentencePiece and byte-level BPE tokens do not merge across a space) that is exactly
 * the first token of the completion; when a token spans the boundary (e.g. prompt "Once upon a ti", completion "me": the
 * whole text holds "▁time") that token is the first one trained, with the prompt's last characters in it.
 */
final class RecordEncoder {
    private final DatasetFormat format;
    private final TextTokenizer tok;
    private final ChatTemplate chat;

    RecordEncoder(DatasetFormat format, TextTokenizer tok) {
        this.format = format;
        this.tok = tok;
        this.chat = format == DatasetFormat.CHAT
                ? new ChatTemplate(tok.chatTemplate().orElse(ChatTemplate.DEFAULT),
                        tok.bosToken().orElse(""), tok.eosToken().orElse(""))
                : null;
    }

    /** The format a record has, judged by its fields; null when it has none of the known shapes. */
    static DatasetFormat detect(JsonNode record) {
        if (record.has("messages")) {
            return DatasetFormat.CHAT;
        }
        if (record.has("prompt") && record.has("completion")) {
            return DatasetFormat.PROMPT_COMPLETION;
        }
        if (record.has("text")) {
            return DatasetFormat.TEXT;
        }
        return null;
    }

    Example encode(JsonNode record) throws InvalidRecordException {
        Tokens t = new Tokens();
        switch (format) {
            case TEXT -> {
                t.special(tok.bosId(), true);
                t.add(tok.encode(nonEmptyString(record, "text")), true);
                t.special(tok.eosId(), true);
            }
            case PROMPT_COMPLETION -> {
                t.special(tok.bosId(), false);
                String prompt = string(record, "prompt");
                String completion = nonEmptyString(record, "completion");
                addSplit(t, List.of(new ChatTemplate.Piece(prompt, false), new ChatTemplate.Piece(completion, true)));
                t.special(tok.eosId(), true);
            }
            case CHAT -> {
                addSplit(t, chat.pieces(messages(record)));
            }
        }
        Example example = t.toExample();
        if (example.lossTokens() == 0) {
            throw new InvalidRecordException("record has no token to learn from (" + example.length() + " tokens)");
        }
        return example;
    }

    /**
     * Adds the encoding of the pieces' concatenated text; token j carries the loss flag of piece k when it lies at or after
     * the point where the encoding of the text up to piece k's start departs from the whole encoding (see the class doc).
     */
    private void addSplit(Tokens t, List<ChatTemplate.Piece> pieces) {
        StringBuilder text = new StringBuilder();
        for (ChatTemplate.Piece piece : pieces) {
            text.append(piece.text());
        }
        int[] whole = tok.encode(text.toString());
        int[] start = new int[pieces.size()];
        int chars = 0;
        for (int k = 1; k < pieces.size(); k++) {
            chars += pieces.get(k - 1).text().length();
            int[] before = tok.encode(text.substring(0, chars));
            int same = 0;
            while (same < before.length && same < whole.length && before[same] == whole[same]) {
                same++;
            }
            start[k] = Math.max(start[k - 1], same);
        }
        for (int k = 0; k < pieces.size(); k++) {
            int end = k + 1 < pieces.size() ? start[k + 1] : whole.length;
            t.add(java.util.Arrays.copyOfRange(whole, start[k], end), pieces.get(k).loss());
        }
    }

    private static String string(JsonNode record, String field) throws InvalidRecordException {
        JsonNode v = record.get(field);
        if (v == null) {
            throw new InvalidRecordException("missing field \"" + field + "\"" + shapeHint(record));
        }
        if (!v.isTextual()) {
            throw new InvalidRecordException("field \"" + field + "\" must be a string, got " + kind(v));
        }
        return v.asText();
    }

    private static String nonEmptyString(JsonNode record, String field) throws InvalidRecordException {
        String s = string(record, field);
        if (s.isEmpty()) {
            throw new InvalidRecordException("field \"" + field + "\" is empty");
        }
        return s;
    }

    private static List<Map<String, Object>> messages(JsonNode record) throws InvalidRecordException {
        JsonNode v = record.get("messages");
        if (v == null) {
            throw new InvalidRecordException("missing field \"messages\"" + shapeHint(record));
        }
        if (!v.isArray() || v.isEmpty()) {
            throw new InvalidRecordException("field \"messages\" must be a non-empty array, got " + kind(v));
        }
        List<Map<String, Object>> out = new ArrayList<>();
        boolean assistant = false;
        for (int i = 0; i < v.size(); i++) {
            JsonNode m = v.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw new InvalidRecordException(where + " must be an object {role, content}, got " + kind(m));
            }
            for (String f : List.of("role", "content")) {
                if (!m.has(f)) {
                    throw new InvalidRecordException(where + ": missing field \"" + f + "\"");
                }
                if (!m.get(f).isTextual()) {
                    throw new InvalidRecordException(where + ": field \"" + f + "\" must be a string, got " + kind(m.get(f)));
                }
            }
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.get("role").asText());
            message.put("content", m.get("content").asText());
            assistant |= "assistant".equals(message.get("role"));
            out.add(message);
        }
        if (!assistant) {
            throw new InvalidRecordException("\"messages\" has no assistant message: nothing to train on");
        }
        return out;
    }

    /** Names the fields the record does have, which usually shows the format mix-up at once. */
    private static String shapeHint(JsonNode record) {
        List<String> names = new ArrayList<>();
        record.fieldNames().forEachRemaining(names::add);
        return " (record has fields " + names + ")";
    }

    private static String kind(JsonNode v) {
        return v.getNodeType().toString().toLowerCase();
    }

    /** Growing ids/labels; labels are the id where loss applies, else Example.IGNORE. */
    private static final class Tokens {
        private final List<Integer> ids = new ArrayList<>();
        private final List<Integer> labels = new ArrayList<>();

        void add(int[] tokens, boolean loss) {
            for (int id : tokens) {
                ids.add(id);
                labels.add(loss ? id : Example.IGNORE);
            }
        }

        void special(OptionalInt id, boolean loss) {
            if (id.isPresent()) {
                add(new int[] {id.getAsInt()}, loss);
            }
        }

        Example toExample() throws InvalidRecordException {
            if (ids.isEmpty()) {
                throw new InvalidRecordException("record encodes to no tokens");
            }
            return new Example(ids.stream().mapToInt(Integer::intValue).toArray(),
                    labels.stream().mapToInt(Integer::intValue).toArray());
        }
    }
}
