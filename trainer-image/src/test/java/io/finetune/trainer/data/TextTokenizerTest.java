package io.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {
    static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz .,!?\n0123456789";

    @TempDir
    Path dir;

    @Test
    void charTokenizerRoundTripsTextWithSpacesAndNewlines() throws IOException {
        CharTokenizerWriter.write(dir, ALPHABET, false);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            String text = "hello world,  two spaces\nand a newline!";
            int[] ids = tok.encode(text);
            assertThat(ids).hasSize(text.length());
            assertThat(tok.decode(ids)).isEqualTo(text);
            // ids follow the contract: 4 specials, then the alphabet in order
            assertThat(tok.encode("a b")).containsExactly(4, 4 + ALPHABET.indexOf(' '), 5);
            assertThat(tok.vocabSize()).isEqualTo(4 + ALPHABET.length());
        }
    }

    @Test
    void specialTokensComeFromTokenizerConfigAndDecodeSkipsThem() throws IOException {
        CharTokenizerWriter.write(dir, ALPHABET, false);
        try (TextTokenizer tok = TextTokenizer.load(dir.resolve("tokenizer.json"))) {
            assertThat(tok.padId()).isZero();
            assertThat(tok.bosId()).hasValue(1);
            assertThat(tok.eosId()).hasValue(2);
            assertThat(tok.chatTemplate()).isEmpty();
            assertThat(tok.decode(new int[] {1, 4, 5, 2, 0})).isEqualTo("ab");
            // a special token's text inside the input maps to its id (what chat templates rely on)
            assertThat(tok.encode("<s>ab</s>")).containsExactly(1, 4, 5, 2);
        }
    }

    @Test
    void unknownCharactersEncodeAsUnk() throws IOException {
        CharTokenizerWriter.write(dir, "ab", false);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            assertThat(tok.encode("aZb")).containsExactly(4, 3, 5);
        }
    }

    @Test
    void chatTemplateVariantAddsRoleMarkersAfterTheAlphabet() throws IOException {
        CharTokenizerWriter.write(dir, "ab", true);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            assertThat(tok.chatTemplate()).contains(CharTokenizerWriter.CHAT_TEMPLATE);
            assertThat(tok.vocabSize()).isEqualTo(4 + 2 + 3);
            assertThat(tok.encode("<|user|>a<|assistant|>b")).containsExactly(7, 4, 8, 5);
        }
    }

    @Test
    void padFallsBackToEosWhenNoPadTokenIsNamed() throws IOException {
        CharTokenizerWriter.write(dir, "ab", false);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": {\"content\": \"<s>\"}, \"eos_token\": \"</s>\"}");
        Files.delete(dir.resolve("special_tokens_map.json"));
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            assertThat(tok.bosId()).hasValue(1);
            assertThat(tok.padId()).isEqualTo(2);
        }
    }

    @Test
    void missingOrBrokenTokenizerNamesTheFile() throws IOException {
        assertThatThrownBy(() -> TextTokenizer.load(dir))
                .isInstanceOf(IOException.class).hasMessageContaining(dir.resolve("tokenizer.json").toString());
        Files.writeString(dir.resolve("tokenizer.json"), "{not json");
        assertThatThrownBy(() -> TextTokenizer.load(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("tokenizer.json: not valid JSON");
    }
}
