package io.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.Specs;
import io.finetune.trainer.llama2c.RealModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training ids with a real SentencePiece tokenizer (the Llama-2 vocabulary of stories15M): the ids of a record are the
 * encoding of its whole text, as at inference, and loss starts where the completion (or assistant turn) starts.
 */
class RealTokenizerBoundaryTest {
    static final int X = Example.IGNORE;
    static TextTokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        tok = TextTokenizer.load(RealModel.hf());
    }

    @AfterAll
    static void close() {
        if (tok != null) {
            tok.close();
        }
    }

    private Example one(String line) throws IOException {
        return DatasetLoader.load(Specs.data(DataFixtures.spec()), DataFixtures.jsonl(dir, "d.jsonl", line), null, tok, 1).train().get(0);
    }

    @Test
    void promptCompletionIdsAreTheEncodingOfTheWholeTextWhenTheBoundaryIsATokenBoundary() throws IOException {
        String prompt = "Define the word cat:";
        String completion = " a small domesticated feline";
        Example e = one("{\"prompt\": \"" + prompt + "\", \"completion\": \"" + completion + "\"}");
        int[] whole = tok.encode(prompt + completion);
        int[] p = tok.encode(prompt);
        assertThat(Arrays.copyOfRange(whole, 0, p.length)).containsExactly(p);
        assertThat(e.inputIds()).containsExactly(concat(new int[] {1}, whole, new int[] {2}));
        // Separate encoding would start the completion with "▁▁a" (a prepended ▁ before its own space): not what inference sees.
        assertThat(tok.encode(completion)).isNotEqualTo(Arrays.copyOfRange(whole, p.length, whole.length));
        for (int i = 0; i < e.labels().length; i++) {
            assertThat(e.labels()[i]).as("label %d", i).isEqualTo(i <= p.length ? X : e.inputIds()[i]);
        }
        assertThat(tok.decode(trained(e))).isEqualTo("a small domesticated feline");
    }

    @Test
    void aTokenSpanningTheBoundaryIsTheFirstTrainedToken() throws IOException {
        Example e = one("{\"prompt\": \"Once upon a ti\", \"completion\": \"me\"}");
        int[] whole = tok.encode("Once upon a time");
        assertThat(e.inputIds()).containsExactly(concat(new int[] {1}, whole, new int[] {2}));
        // "▁time" (931) holds the prompt's "ti" and the completion's "me": it is trained, the prompt's other tokens are not.
        assertThat(trained(e)).containsExactly(931, 2);
    }

    @Test
    void chatIdsAreTheEncodingOfTheRenderedConversationWithLossOnTheAssistantTurn() throws IOException {
        Example e = one("{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story.\"},"
                + " {\"role\": \"assistant\", \"content\": \"Once upon a time, there was a cat.\"}]}");
        // The default template: "<s>user: Tell me a story.\nassistant: Once upon a time, there was a cat.</s>"
        int[] whole = tok.encode("<s>user: Tell me a story.\nassistant: Once upon a time, there was a cat.</s>");
        assertThat(e.inputIds()).containsExactly(whole);
        assertThat(tok.decode(trained(e))).isEqualTo("Once upon a time, there was a cat.");
        assertThat(trained(e)[trained(e).length - 1]).isEqualTo(2);
    }

    private static int[] trained(Example e) {
        return Arrays.stream(e.labels()).filter(l -> l != X).toArray();
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }
}
