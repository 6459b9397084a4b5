package io.finetune.trainer.data;

import static io.finetune.trainer.data.DataFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.DatasetFormat;
import io.finetune.api.v1alpha1.DatasetSpec;
import io.finetune.trainer.Specs;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exact token ids and loss masks for each record format. */
class FormatMaskingTest {
    static final int PAD = 0;
    static final int BOS = 1;
    static final int EOS = 2;
    static final int X = Example.IGNORE;

    @TempDir
    Path dir;

    @Test
    void textRecordsAreBosTextEosWithLossEverywhere() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false)) {
            Path file = DataFixtures.jsonl(dir, "t.jsonl", "{\"text\": \"ab\"}");
            LoadedDataset ds = DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1);
            Example e = ds.train().get(0);
            assertThat(e.inputIds()).containsExactly(BOS, id('a'), id('b'), EOS);
            assertThat(e.labels()).containsExactly(BOS, id('a'), id('b'), EOS);
            assertThat(ds.stats().format()).isEqualTo(DatasetFormat.TEXT);
            assertThat(ds.stats().trainTokens()).isEqualTo(4);
            assertThat(ds.stats().lossTokens()).isEqualTo(3); // position 0 is never predicted
        }
    }

    @Test
    void promptCompletionMasksBosAndPrompt() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false)) {
            Path file = DataFixtures.jsonl(dir, "pc.jsonl", "{\"prompt\": \"ab \", \"completion\": \"cd\"}");
            LoadedDataset ds = DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1);
            Example e = ds.train().get(0);
            int space = 4 + DataFixtures.ALPHABET.indexOf(' ');
            assertThat(e.inputIds()).containsExactly(BOS, id('a'), id('b'), space, id('c'), id('d'), EOS);
            assertThat(e.labels()).containsExactly(X, X, X, X, id('c'), id('d'), EOS);
            assertThat(ds.stats().format()).isEqualTo(DatasetFormat.PROMPT_COMPLETION);
            assertThat(ds.stats().lossTokens()).isEqualTo(3);
        }
    }

    @Test
    void chatWithTheTokenizersTemplateTrainsOnlyOnAssistantTurns() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, "abc", true)) {
            int user = 8;
            int assistant = 9;
            Path file = DataFixtures.jsonl(dir, "chat.jsonl", "{\"messages\": ["
                    + "{\"role\": \"user\", \"content\": \"ab\"}, {\"role\": \"assistant\", \"content\": \"c\"},"
                    + "{\"role\": \"user\", \"content\": \"b\"}, {\"role\": \"assistant\", \"content\": \"ca\"}]}");
            LoadedDataset ds = DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1);
            Example e = ds.train().get(0);
            // <s> <|user|> a b <|assistant|> c </s> <|user|> b <|assistant|> c a </s>
            assertThat(e.inputIds()).containsExactly(BOS, user, 4, 5, assistant, 6, EOS, user, 5, assistant, 6, 4, EOS);
            assertThat(e.labels()).containsExactly(X, X, X, X, X, 6, EOS, X, X, X, 6, 4, EOS);
            assertThat(ds.stats().format()).isEqualTo(DatasetFormat.CHAT);
        }
    }

    @Test
    void chatWithoutTemplateUsesTheDocumentedDefaultRendering() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false)) {
            Path file = DataFixtures.jsonl(dir, "chat.jsonl", "{\"messages\": [{\"role\": \"system\", \"content\": \"be\"},"
                    + "{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]}");
            Example e = DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1).train().get(0);
            assertThat(tok.decode(e.inputIds())).isEqualTo("system: be\nuser: hi\nassistant: yo");
            assertThat(e.inputIds()[0]).isEqualTo(BOS);
            assertThat(e.inputIds()[e.length() - 1]).isEqualTo(EOS);
            assertThat(lossText(tok, e)).isEqualTo("yo");
            assertThat(e.labels()[e.length() - 1]).isEqualTo(EOS);
            assertThat(e.lossTokens()).isEqualTo(3);
        }
    }

    @Test
    void chatMlStyleTemplateFromTokenizerConfigMasksHeaderAndTrainsOnEndOfTurn() throws IOException {
        String template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
                + " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        Path tokDir = dir.resolve("tokenizer");
        CharTokenizerWriter.write(tokDir, DataFixtures.ALPHABET, false);
        java.nio.file.Files.writeString(tokDir.resolve("tokenizer_config.json"),
                new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(java.util.Map.of(
                        "eos_token", "</s>", "pad_token", "<pad>", "chat_template", template)));
        try (TextTokenizer tok = TextTokenizer.load(tokDir)) {
            Path file = DataFixtures.jsonl(dir, "chat.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"},"
                    + "{\"role\": \"assistant\", \"content\": \"yo\"}]}");
            Example e = DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1).train().get(0);
            assertThat(tok.decode(e.inputIds()))
                    .isEqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n");
            assertThat(lossText(tok, e)).isEqualTo("yo<|im_end|>\n");
        }
    }

    @Test
    void formatFromTheSpecOverridesDetection() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false)) {
            // has both "text" and prompt/completion: detection picks prompt-completion, the spec says text
            Path file = DataFixtures.jsonl(dir, "t.jsonl", "{\"text\": \"ab\", \"prompt\": \"a\", \"completion\": \"b\"}");
            DatasetSpec spec = DataFixtures.spec();
            assertThat(DatasetLoader.load(Specs.data(spec), file, null, tok, 1).stats().format())
                    .isEqualTo(DatasetFormat.PROMPT_COMPLETION);
            spec.format = DatasetFormat.TEXT;
            Example e = DatasetLoader.load(Specs.data(spec), file, null, tok, 1).train().get(0);
            assertThat(e.labels()).containsExactly(BOS, id('a'), id('b'), EOS);
        }
    }

    @Test
    void windowsLineEndingsAndAUtf8BomAreAcceptedAndLineNumbersStayRight() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false)) {
            Path file = dir.resolve("crlf.jsonl");
            java.nio.file.Files.write(file, ("\uFEFF{\"text\": \"a\"}\r\n\r\n{\"text\": \"b\"}\r\n{\"text\": 1}\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1))
                    .hasMessageStartingWith(file + ":4: field \"text\" must be a string");
            DatasetSpec spec = DataFixtures.spec();
            spec.invalidRecords = io.finetune.api.v1alpha1.RecordPolicy.Skip;
            LoadedDataset ds = DatasetLoader.load(Specs.data(spec), file, null, tok, 1);
            assertThat(ds.train()).extracting(e -> tok.decode(e.inputIds())).containsExactly("a", "b");
        }
    }

    /** The text of the positions that carry loss, in order. */
    static String lossText(TextTokenizer tok, Example e) {
        StringBuilder sb = new StringBuilder();
        for (int t = 0; t < e.length(); t++) {
            if (e.labels()[t] != Example.IGNORE) {
                sb.append(tok.decode(new int[] {e.labels()[t]}));
            }
        }
        return sb.toString();
    }
}
