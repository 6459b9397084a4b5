package io.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.v1alpha1.DatasetFormat;
import io.finetune.api.v1alpha1.DatasetSpec;
import io.finetune.api.v1alpha1.RecordPolicy;
import io.finetune.trainer.Specs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad record stops the load with "<file>:<line>: <what>" (Fail) or is dropped and counted (Skip). */
class DatasetErrorsTest {
    static final String GOOD = "{\"text\": \"abc\"}";

    @TempDir
    Path dir;
    TextTokenizer tok;

    @BeforeEach
    void tokenizer() throws IOException {
        tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false);
    }

    @AfterEach
    void close() {
        tok.close();
    }

    private void assertFails(Path file, DatasetSpec spec, int line, String what) {
        assertFails(file, file, spec, line, what);
    }

    private void assertFails(Path source, Path file, DatasetSpec spec, int line, String what) {
        assertThatThrownBy(() -> DatasetLoader.load(Specs.data(spec), source, null, tok, 1))
                .isInstanceOf(DatasetException.class)
                .hasMessageStartingWith(file + ":" + line + ": ")
                .hasMessageContaining(what)
                .satisfies(e -> assertThat(((DatasetException) e).line()).hasValue(line));
    }

    @Test
    void malformedJsonNamesFileAndLine() throws IOException {
        Path f = DataFixtures.jsonl(dir, "d.jsonl", GOOD, "", "{\"text\": \"ab\"", GOOD);
        assertFails(f, DataFixtures.spec(), 3, "malformed JSON");
    }

    @Test
    void twoValuesOnOneLineOrANonObjectAreRejected() throws IOException {
        assertFails(DataFixtures.jsonl(dir, "a.jsonl", GOOD, GOOD + " " + GOOD), DataFixtures.spec(), 2, "malformed JSON");
        assertFails(DataFixtures.jsonl(dir, "b.jsonl", GOOD, "[1, 2]"), DataFixtures.spec(), 2,
                "expected a JSON object, got array");
    }

    @Test
    void missingFieldNamesTheFieldAndWhatTheRecordHas() throws IOException {
        Path f = DataFixtures.jsonl(dir, "pc.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}",
                "{\"prompt\": \"a\", \"answer\": \"b\"}");
        assertFails(f, DataFixtures.spec(), 2, "missing field \"completion\" (record has fields [prompt, answer])");
    }

    @Test
    void wrongTypeIsRejected() throws IOException {
        assertFails(DataFixtures.jsonl(dir, "t.jsonl", GOOD, "{\"text\": 42}"), DataFixtures.spec(), 2,
                "field \"text\" must be a string, got number");
        assertFails(DataFixtures.jsonl(dir, "c.jsonl", "{\"messages\": [{\"role\": \"assistant\", \"content\": \"a\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": [\"a\"]}]}"), DataFixtures.spec(), 2,
                "messages[0]: field \"content\" must be a string, got array");
        assertFails(DataFixtures.jsonl(dir, "m.jsonl", "{\"messages\": \"hi\"}"), DataFixtures.spec(), 1,
                "field \"messages\" must be a non-empty array, got string");
    }

    @Test
    void chatWithoutAssistantTurnHasNothingToTrainOn() throws IOException {
        Path f = DataFixtures.jsonl(dir, "c.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}");
        assertFails(f, DataFixtures.spec(), 1, "no assistant message");
    }

    @Test
    void unknownShapeCannotBeDetected() throws IOException {
        Path f = DataFixtures.jsonl(dir, "u.jsonl", "{\"question\": \"a\"}");
        assertFails(f, DataFixtures.spec(), 1, "cannot detect the dataset format");
    }

    @Test
    void emptyFileAndBlankOnlyFileAreErrors() throws IOException {
        Path empty = dir.resolve("empty.jsonl");
        Files.write(empty, new byte[0]);
        assertFails(empty, DataFixtures.spec(), 1, "empty dataset");
        assertFails(DataFixtures.jsonl(dir, "blank.jsonl", "", "   "), DataFixtures.spec(), 1, "empty dataset");
    }

    @Test
    void nonUtf8BytesNameLineAndColumn() throws IOException {
        Path f = dir.resolve("latin1.jsonl");
        byte[] bad = "{\"text\": \"caf\u00e9\"}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] good = (GOOD + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Files.write(f, all);
        assertFails(f, DataFixtures.spec(), 2, "not valid UTF-8 (bad byte near column 14)");
    }

    @Test
    void overlongRecordFailsUnderFailPolicy() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.maxSeqLength = 8;
        spec.overlongRecords = RecordPolicy.Fail;
        Path f = DataFixtures.jsonl(dir, "long.jsonl", GOOD, "{\"text\": \"abcdefghij\"}");
        assertFails(f, spec, 2, "record has 12 tokens, longer than maxSeqLength 8");
    }

    @Test
    void skipPoliciesDropAndCountEachKind() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.maxSeqLength = 8;
        spec.invalidRecords = RecordPolicy.Skip;
        spec.overlongRecords = RecordPolicy.Skip;
        Path f = DataFixtures.jsonl(dir, "mixed.jsonl",
                "{broken", GOOD, "{\"text\": 1}", "{\"text\": \"abcdefghij\"}", GOOD, "{\"prompt\": \"x\"}", GOOD);
        LoadedDataset ds = DatasetLoader.load(Specs.data(spec), f, null, tok, 1);
        // the first line is malformed, so the format is detected from line 2
        assertThat(ds.stats().format()).isEqualTo(DatasetFormat.TEXT);
        assertThat(ds.train()).hasSize(3);
        assertThat(ds.stats().records()).isEqualTo(3);
        assertThat(ds.stats().skippedInvalid()).isEqualTo(3);
        assertThat(ds.stats().skippedOverlong()).isEqualTo(1);
        assertThat(ds.stats().truncated()).isZero();
    }

    @Test
    void truncatePolicyCutsToMaxSeqLengthAndCounts() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.maxSeqLength = 8;
        Path f = DataFixtures.jsonl(dir, "long.jsonl", GOOD, "{\"text\": \"abcdefghij\"}");
        LoadedDataset ds = DatasetLoader.load(Specs.data(spec), f, null, tok, 1);
        assertThat(ds.train()).hasSize(2);
        // [bos] a..g: the first 8 of the 12 tokens, eos cut off
        assertThat(ds.train().get(1).inputIds()).hasSize(8).startsWith(1, DataFixtures.id('a')).endsWith(DataFixtures.id('g'));
        assertThat(ds.stats().truncated()).isEqualTo(1);
        assertThat(ds.stats().skippedOverlong()).isZero();
    }

    @Test
    void aRecordOfAnotherFormatNamesTheDetectedFormat() throws IOException {
        Path f = DataFixtures.jsonl(dir, "mixed.jsonl", GOOD, "{\"prompt\": \"a\", \"completion\": \"b\"}");
        assertFails(f, DataFixtures.spec(), 2,
                "missing field \"text\" (record has fields [prompt, completion]) (format text detected from the first record)");
    }

    @Test
    void truncationThatLeavesNoCompletionDropsTheRecord() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.maxSeqLength = 8;
        Path f = DataFixtures.jsonl(dir, "pc.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}",
                "{\"prompt\": \"abcdefghij\", \"completion\": \"z\"}");
        LoadedDataset ds = DatasetLoader.load(Specs.data(spec), f, null, tok, 1);
        assertThat(ds.train()).hasSize(1);
        assertThat(ds.stats().skippedOverlong()).isEqualTo(1);
        assertThat(ds.stats().truncated()).isZero();
    }

    @Test
    void nothingLeftAfterSkippingIsAnErrorNamingTheFile() throws IOException {
        DatasetSpec spec = DataFixtures.spec();
        spec.invalidRecords = RecordPolicy.Skip;
        Path f = DataFixtures.jsonl(dir, "bad.jsonl", "{", "{\"text\": 3}");
        assertThatThrownBy(() -> DatasetLoader.load(Specs.data(spec), f, null, tok, 1))
                .isInstanceOf(DatasetException.class)
                .hasMessage(f + ": no usable records: 2 skipped as invalid, 0 skipped as longer than maxSeqLength 256");
    }

    @Test
    void aDirectoryIsReadFileByFileInNameOrderAndErrorsNameTheFile() throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        DataFixtures.jsonl(data, "b.jsonl", "{\"text\": \"b\"}");
        DataFixtures.jsonl(data, "a.jsonl", "{\"text\": \"a\"}", "{\"text\": \"aa\"}");
        Files.write(data.resolve("empty.jsonl"), new byte[0]);
        Files.writeString(data.resolve("notes.txt"), "not data");
        LoadedDataset ds = DatasetLoader.load(Specs.data(DataFixtures.spec()), data, null, tok, 1);
        assertThat(ds.train()).extracting(e -> tok.decode(e.inputIds())).containsExactly("a", "aa", "b");

        Path bad = DataFixtures.jsonl(data, "c.jsonl", GOOD, "{\"text\": null}");
        assertFails(data, bad, DataFixtures.spec(), 2, "field \"text\" must be a string, got null");
    }

    @Test
    void missingFileIsAnIoErrorNamingIt() {
        Path missing = dir.resolve("nope.jsonl");
        assertThatThrownBy(() -> DatasetLoader.load(Specs.data(DataFixtures.spec()), missing, null, tok, 1))
                .isInstanceOf(java.nio.file.NoSuchFileException.class).hasMessageContaining(missing.toString());
    }

    @Test
    void chatTemplateRejectionIsReportedAtTheRecordsLine() throws IOException {
        Path tokDir = dir.resolve("tokenizer");
        Files.writeString(tokDir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\", \"chat_template\": "
                + "\"{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}"
                + "{% endif %}{{ m['content'] }}{% endfor %}\"}");
        try (TextTokenizer chatTok = TextTokenizer.load(tokDir)) {
            Path f = DataFixtures.jsonl(dir, "c.jsonl",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}",
                    "{\"messages\": [{\"role\": \"system\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}");
            assertThatThrownBy(() -> DatasetLoader.load(Specs.data(DataFixtures.spec()), f, null, chatTok, 1))
                    .isInstanceOf(DatasetException.class)
                    .hasMessageStartingWith(f + ":2: chat template failed: no system role");
        }
    }
}
