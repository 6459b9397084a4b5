package io.finetune.trainer.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Splits a JSONL file into one JSON object per line, with 1-based line numbers. Blank lines are allowed and ignored;
 * every other line must be strict UTF-8 holding exactly one JSON object. A bad line is handed to {@code onInvalid}
 * (which throws under the Fail policy, or counts under Skip) and reading goes on.
 */
final class JsonlReader {
    /** One JSON object and the line it came from. */
    record Line(int number, JsonNode json) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JsonlReader() {}

    static List<Line> read(Path file, Consumer<DatasetException> onInvalid) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int start = hasUtf8Bom(bytes) ? 3 : 0;
        List<Line> lines = new ArrayList<>();
        int number = 0;
        while (start < bytes.length) {
            number++;
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            int contentEnd = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            Line line = parse(file, number, bytes, start, contentEnd, onInvalid);
            if (line != null) {
                lines.add(line);
            }
            start = end + 1;
        }
        return lines;
    }

    /** The parsed line, or null for a blank or invalid one (the latter reported to onInvalid). */
    private static Line parse(Path file, int number, byte[] bytes, int from, int to, Consumer<DatasetException> onInvalid) {
        String text;
        try {
            text = utf8().decode(ByteBuffer.wrap(bytes, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            onInvalid.accept(DatasetException.atLine(file, number,
                    "not valid UTF-8 (bad byte near column " + firstBadByte(bytes, from, to) + ")"));
            return null;
        }
        if (text.isBlank()) {
            return null;
        }
        JsonNode json;
        try {
            json = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            onInvalid.accept(DatasetException.atLine(file, number, "malformed JSON: " + e.getOriginalMessage()));
            return null;
        }
        if (!json.isObject()) {
            onInvalid.accept(DatasetException.atLine(file, number,
                    "expected a JSON object, got " + json.getNodeType().toString().toLowerCase()));
            return null;
        }
        return new Line(number, json);
    }

    private static CharsetDecoder utf8() {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** 1-based byte column of the first byte that does not start a valid UTF-8 sequence. */
    private static int firstBadByte(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            int len = to - i;
            for (int n = 1; n <= Math.min(4, len); n++) {
                try {
                    utf8().decode(ByteBuffer.wrap(bytes, i, n));
                    i += n - 1;
                    break;
                } catch (CharacterCodingException e) {
                    if (n == Math.min(4, len)) {
                        return i - from + 1;
                    }
                }
            }
        }
        return to - from;
    }

    private static boolean hasUtf8Bom(byte[] b) {
        return b.length >= 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF;
    }
}
