package io.finetune.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rendering Hugging Face style templates with Jinjava and cutting them into loss / no-loss pieces. */
class ChatTemplateTest {
    /** The shape of Llama 3's template: headers, trimmed content, eot after every turn, bos from the variable. */
    static final String LLAMA3_LIKE = "{{ bos_token }}{% for message in messages %}"
            + "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim"
            + " + '<|eot_id|>' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    static List<Map<String, Object>> chat(String... roleContent) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < roleContent.length; i += 2) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", roleContent[i]);
            m.put("content", roleContent[i + 1]);
            out.add(m);
        }
        return out;
    }

    @Test
    void llama3StyleTemplateMasksHeadersAndTrainsOnContentPlusEndOfTurn() throws Exception {
        ChatTemplate t = new ChatTemplate(LLAMA3_LIKE, "<|begin_of_text|>", "<|end_of_text|>");
        List<ChatTemplate.Piece> pieces = t.pieces(chat("user", "hi ", "assistant", "yo", "user", "more", "assistant", "ok"));
        assertThat(pieces).containsExactly(
                new ChatTemplate.Piece("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n", false),
                new ChatTemplate.Piece("yo<|eot_id|>", true),
                new ChatTemplate.Piece("<|start_header_id|>user<|end_header_id|>\n\nmore<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n", false),
                new ChatTemplate.Piece("ok<|eot_id|>", true));
    }

    @Test
    void whitespaceControlAndTrimFilterFollowJinja2() throws Exception {
        String template = "{%- for message in messages -%}\n  {{- '[' + message['role'] + ']' }}\n"
                + "  {{ message['content'] | trim -}}\n{%- endfor -%}";
        ChatTemplate t = new ChatTemplate(template, "", "");
        assertThat(t.render(chat("user", "  a  ", "assistant", "b"), false)).isEqualTo("[user]\n  a[assistant]\n  b"); // what Jinja2 3.x renders
    }

    @Test
    void commonTemplateIdiomsWork() throws Exception {
        // attribute access on messages, indexing, length, loop variables, namespace-free conditionals
        String template = "{% if messages[0]['role'] == 'system' %}[sys={{ messages[0].content }}]{% endif %}"
                + "{% for message in messages %}{% if loop.index0 > 0 or message.role != 'system' %}"
                + "{{ loop.index }}/{{ messages | length }} {{ message.role }}: {{ message.content }};{% endif %}{% endfor %}";
        ChatTemplate t = new ChatTemplate(template, "", "");
        assertThat(t.render(chat("system", "s", "user", "u", "assistant", "a"), false))
                .isEqualTo("[sys=s]2/3 user: u;3/3 assistant: a;");
    }

    @Test
    void messageContentIsDataNotTemplateCode() throws Exception {
        ChatTemplate t = new ChatTemplate(CharTokenizerWriter.CHAT_TEMPLATE, "<s>", "</s>");
        assertThat(t.render(chat("user", "{{ 7 * 7 }} {% if true %}x{% endif %}"), false))
                .isEqualTo("<s><|user|>{{ 7 * 7 }} {% if true %}x{% endif %}");
    }

    @Test
    void generationPromptIsAppendedOnlyWhenAsked() throws Exception {
        ChatTemplate t = new ChatTemplate(ChatTemplate.DEFAULT, "<s>", "</s>");
        assertThat(t.render(chat("user", "hi"), true)).isEqualTo("<s>user: hi\nassistant: ");
        assertThat(t.render(chat("user", "hi", "assistant", "yo"), false)).isEqualTo("<s>user: hi\nassistant: yo</s>");
    }

    @Test
    void raiseExceptionInTheTemplateRejectsTheRecordWithItsMessage() {
        String template = "{% for message in messages %}{% if message['role'] == 'system' %}"
                + "{{ raise_exception('System role not supported') }}{% endif %}{{ message['content'] }}{% endfor %}";
        ChatTemplate t = new ChatTemplate(template, "", "");
        assertThatThrownBy(() -> t.render(chat("system", "x", "user", "y"), false))
                .isInstanceOf(InvalidRecordException.class)
                .hasMessageContaining("System role not supported");
    }

    @Test
    void variablesSetInOneRenderDoNotLeakIntoTheNext() throws Exception {
        String template = "{% if seen is defined %}LEAK{% endif %}{% set seen = 1 %}"
                + "{% for message in messages %}{{ message['content'] }}{% endfor %}";
        ChatTemplate t = new ChatTemplate(template, "", "");
        assertThat(t.render(chat("user", "a"), false)).isEqualTo("a");
        assertThat(t.render(chat("user", "b"), false)).isEqualTo("b");
    }

    @Test
    void aTemplateThatDoesNotParseFailsEveryRenderWithTheSyntaxError() {
        ChatTemplate t = new ChatTemplate("{% for message in messages %}{{ message['content'] }}", "", "");
        assertThatThrownBy(() -> t.render(chat("user", "a"), false))
                .isInstanceOf(InvalidRecordException.class)
                .hasMessageStartingWith("chat template failed: ")
                .hasMessageContaining("endfor");
    }

    @Test
    void templateThatRendersTheLastTurnDifferentlyCannotBeMasked() {
        // the last message gets a marker the prefixes do not have, so prefix renderings are not prefixes of the whole
        String template = "{% for message in messages %}{{ message['content'] }}{% if loop.last %}!{% endif %}{% endfor %}";
        ChatTemplate t = new ChatTemplate(template, "", "");
        assertThatThrownBy(() -> t.pieces(chat("user", "a", "assistant", "b", "user", "c")))
                .isInstanceOf(InvalidRecordException.class)
                .hasMessageContaining("not prefix-stable");
    }
}
