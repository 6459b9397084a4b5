package io.finetune.trainer.data;

import static io.finetune.trainer.data.ChatTemplateTest.chat;
import static io.finetune.trainer.data.FormatMaskingTest.lossText;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.trainer.Specs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Templates that rewrite history (Qwen3's shape: earlier assistant turns lose their {@code <think>} block) and templates
 * that refuse a role (Gemma's shape): the rendering Jinja2 gives, and the assistant spans found in the full rendering.
 * The expected renderings are what Jinja2 3.1.2 printed for the same template and messages (with transformers'
 * trim_blocks and lstrip_blocks).
 */
class HistoryRewritingTemplateTest {
    /** Written for this test in the constructs of Qwen3's template: messages[::-1], namespace, string methods. */
    static final String QWEN3_LIKE = "{%- if messages[0].role == 'system' %}\n"
            + "    {{- '<|im_start|>system\\n' + messages[0].content.strip() + '<|im_end|>\\n' }}\n"
            + "{%- endif %}\n"
            + "{%- set ns = namespace(last_query=messages|length - 1, found=false) %}\n"
            + "{%- for message in messages[::-1] %}\n"
            + "    {%- set index = (messages|length - 1) - loop.index0 %}\n"
            + "    {%- if not ns.found and message.role == 'user' and not (message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}"
            + "\n"
            + "        {%- set ns.found = true %}\n"
            + "        {%- set ns.last_query = index %}\n"
            + "    {%- endif %}\n"
            + "{%- endfor %}\n"
            + "{%- for message in messages %}\n"
            + "    {%- set content = message.content %}\n"
            + "    {%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}\n"
            + "        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}\n"
            + "    {%- elif message.role == 'assistant' %}\n"
            + "        {%- set reasoning = '' %}\n"
            + "        {%- if '</think>' in content %}\n"
            + "            {%- set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}"
            + "\n"
            + "            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}\n"
            + "        {%- endif %}\n"
            + "        {%- if loop.index0 > ns.last_query %}\n"
            + "            {{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}"
            + "\n"
            + "        {%- else %}\n"
            + "            {{- '<|im_start|>assistant\\n' + content }}\n"
            + "        {%- endif %}\n"
            + "        {{- '<|im_end|>\\n' }}\n"
            + "    {%- endif %}\n"
            + "{%- endfor %}\n"
            + "{%- if add_generation_prompt %}\n"
            + "    {{- '<|im_start|>assistant\\n' }}\n"
            + "{%- endif %}";

    /** Gemma's shape: refuses a system role and non-alternating roles with raise_exception. */
    static final String GEMMA_LIKE = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
            + "{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
            + "{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}";

    @TempDir
    Path dir;

    @Test
    void earlierThinkingIsDroppedAndEachAssistantTurnIsFoundInTheFullRendering() throws Exception {
        ChatTemplate t = new ChatTemplate(QWEN3_LIKE, "", "<|im_end|>");
        var messages = chat("user", "u1", "assistant", "<think>\nr1\n</think>\n\na1", "user", "u2", "assistant", "a2");
        String full = "<|im_start|>user\nu1<|im_end|>\n<|im_start|>assistant\na1<|im_end|>\n"
                + "<|im_start|>user\nu2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\na2<|im_end|>\n";
        assertThat(t.render(messages, false)).isEqualTo(full);
        // The first turn rendered as the last message keeps its thinking: a prefix rendering is not a prefix of the whole.
        assertThat(t.render(messages.subList(0, 2), false)).isEqualTo(
                "<|im_start|>user\nu1<|im_end|>\n<|im_start|>assistant\n<think>\nr1\n</think>\n\na1<|im_end|>\n");
        assertThat(full).doesNotStartWith(t.render(messages.subList(0, 2), false));
        assertThat(t.pieces(messages)).containsExactly(
                new ChatTemplate.Piece("<|im_start|>user\nu1<|im_end|>\n<|im_start|>assistant\n", false),
                new ChatTemplate.Piece("a1<|im_end|>\n", true),
                new ChatTemplate.Piece("<|im_start|>user\nu2<|im_end|>\n<|im_start|>assistant\n", false),
                new ChatTemplate.Piece("<think>\n\n</think>\n\na2<|im_end|>\n", true));
    }

    @Test
    void aToolResponseIsNotTheLastQuerySoEarlierThinkingIsKeptAndTrained() throws Exception {
        ChatTemplate t = new ChatTemplate(QWEN3_LIKE, "", "<|im_end|>");
        var messages = chat("system", "  Be brief. ", "user", "u1", "assistant", "<think>\nr1\n</think>\n\na1",
                "user", "<tool_response>x</tool_response>", "assistant", "<think>r2</think>a2");
        assertThat(t.pieces(messages)).containsExactly(
                new ChatTemplate.Piece("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nu1<|im_end|>\n"
                        + "<|im_start|>assistant\n", false),
                new ChatTemplate.Piece("<think>\nr1\n</think>\n\na1<|im_end|>\n", true),
                new ChatTemplate.Piece("<|im_start|>user\n<tool_response>x</tool_response><|im_end|>\n"
                        + "<|im_start|>assistant\n", false),
                new ChatTemplate.Piece("<think>\nr2\n</think>\n\na2<|im_end|>\n", true));
    }

    @Test
    void lossTokensOfAMultiTurnRecordAreTheKeptAnswerAndTheFinalTurn() throws IOException {
        Path tokDir = dir.resolve("tokenizer");
        CharTokenizerWriter.write(tokDir, DataFixtures.ALPHABET + "/0123456789", false);
        Files.writeString(tokDir.resolve("tokenizer_config.json"), new ObjectMapper().writeValueAsString(Map.of(
                "eos_token", "</s>", "pad_token", "<pad>", "chat_template", QWEN3_LIKE)));
        try (TextTokenizer tok = TextTokenizer.load(tokDir)) {
            Path file = DataFixtures.jsonl(dir, "chat.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"u1\"},"
                    + "{\"role\": \"assistant\", \"content\": \"<think>\\nr1\\n</think>\\n\\na1\"},"
                    + "{\"role\": \"user\", \"content\": \"u2\"}, {\"role\": \"assistant\", \"content\": \"a2\"}]}");
            Example e = DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1).train().get(0);
            assertThat(tok.decode(e.inputIds())).isEqualTo("<|im_start|>user\nu1<|im_end|>\n<|im_start|>assistant\n"
                    + "a1<|im_end|>\n<|im_start|>user\nu2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
                    + "a2<|im_end|>\n");
            String trained = "a1<|im_end|>\n" + "<think>\n\n</think>\n\na2<|im_end|>\n";
            assertThat(lossText(tok, e)).isEqualTo(trained);
            assertThat(Arrays.stream(e.labels()).filter(l -> l != Example.IGNORE).count()).isEqualTo(trained.length());
        }
    }

    @Test
    void gemmaStyleTemplateRendersAndTrainsOnTheModelTurn() throws Exception {
        ChatTemplate t = new ChatTemplate(GEMMA_LIKE, "<bos>", "<eos>");
        assertThat(t.pieces(chat("user", " hi ", "assistant", "yo\n"))).containsExactly(
                new ChatTemplate.Piece("<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n", false),
                new ChatTemplate.Piece("yo<end_of_turn>\n", true));
    }

    @Test
    void aSystemRoleTheTemplateRefusesIsReportedAtTheRecordsLine() throws IOException {
        Path tokDir = dir.resolve("tokenizer");
        CharTokenizerWriter.write(tokDir, DataFixtures.ALPHABET, false);
        Files.writeString(tokDir.resolve("tokenizer_config.json"), new ObjectMapper().writeValueAsString(Map.of(
                "eos_token", "</s>", "pad_token", "<pad>", "chat_template", GEMMA_LIKE)));
        try (TextTokenizer tok = TextTokenizer.load(tokDir)) {
            Path file = DataFixtures.jsonl(dir, "chat.jsonl",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}",
                    "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": \"a\"},"
                            + " {\"role\": \"assistant\", \"content\": \"b\"}]}");
            assertThatThrownBy(() -> DatasetLoader.load(Specs.data(DataFixtures.spec()), file, null, tok, 1))
                    .isInstanceOf(DatasetException.class)
                    .hasMessageStartingWith(file + ":2: chat template failed: System role not supported");
        }
    }

    @Test
    void aTurnTheFullRenderingShowsOtherwiseThanByDroppingALeadingPartIsRejected() {
        // earlier assistant turns are upper-cased: the turn rendered last ("b|") has no tail where the full one has "B|"
        String template = "{% for m in messages %}{% if loop.last or m.role != 'assistant' %}{{ m.content }}"
                + "{% else %}{{ m.content.upper() }}{% endif %}|{% endfor %}";
        ChatTemplate t = new ChatTemplate(template, "", "");
        assertThatThrownBy(() -> t.pieces(chat("user", "a", "assistant", "b", "user", "c")))
                .isInstanceOf(InvalidRecordException.class)
                .hasMessageContaining("renders assistant message 1 differently inside the conversation");
    }
}
