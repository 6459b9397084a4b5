package io.finetune.trainer.data;

import static io.finetune.trainer.data.DataFixtures.id;
import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.DatasetFormat;
import io.finetune.trainer.Specs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generation prompt is exactly the no-loss prefix of a training example with the same prompt. */
class GenerationPromptTest {
    @TempDir
    Path dir;

    @Test
    void promptCompletionPromptIsTheMaskedPrefixOfTheTrainingExample() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, DataFixtures.ALPHABET, false)) {
            Path f = DataFixtures.jsonl(dir, "pc.jsonl", "{\"prompt\": \"ab\", \"completion\": \"c\"}");
            Example e = DatasetLoader.load(Specs.data(DataFixtures.spec()), f, null, tok, 1).train().get(0);
            int[] prompt = GenerationPrompt.encode(tok, DatasetFormat.PROMPT_COMPLETION, "ab");
            assertThat(prompt).containsExactly(1, id('a'), id('b'));
            assertThat(Arrays.copyOf(e.inputIds(), prompt.length)).containsExactly(prompt);
        }
    }

    @Test
    void chatPromptEndsWithTheAssistantMarkerWhereTrainingStartsTheLoss() throws IOException {
        try (TextTokenizer tok = DataFixtures.charTokenizer(dir, "abc", true)) {
            Path f = DataFixtures.jsonl(dir, "c.jsonl",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"ab\"}, {\"role\": \"assistant\", \"content\": \"c\"}]}");
            Example e = DatasetLoader.load(Specs.data(DataFixtures.spec()), f, null, tok, 1).train().get(0);
            int[] prompt = GenerationPrompt.encode(tok, DatasetFormat.CHAT, "ab");
            assertThat(prompt).containsExactly(1, 8, 4, 5, 9); // <s> <|user|> a b <|assistant|>
            assertThat(Arrays.copyOf(e.inputIds(), prompt.length)).containsExactly(prompt);
            assertThat(e.labels()[prompt.length - 1]).isEqualTo(Example.IGNORE);
            assertThat(e.labels()[prompt.length]).isNotEqualTo(Example.IGNORE);
        }
    }
}
