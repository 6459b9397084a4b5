package io.finetune.trainer.data;

import static io.finetune.trainer.data.ChatTemplateTest.chat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

/**
 * The Python constructs Hugging Face chat templates use, rendered as transformers' Jinja2 environment renders them.
 * Each expected string is what Jinja2 3.1.2 (Debian's python3-jinja2, with transformers' trim_blocks/lstrip_blocks,
 * tojson and strftime_now) printed for the same template and messages; booleans are printed through {@code 'T' if ..}
 * because Jinja2 prints Python's {@code True} where Jinjava prints {@code true}.
 */
class TemplateConstructsTest {
    static final ZonedDateTime NOW = ZonedDateTime.of(2026, 12, 5, 9, 30, 0, 0, ZoneOffset.UTC);

    private static String render(String template) throws InvalidRecordException {
        return new ChatTemplate(template, "<s>", "</s>", NOW)
                .render(chat("user", "hi", "assistant", "yo", "user", "more"), false);
    }

    @Test
    void slicesWithStepsIncludingNegativeOnesFollowPython() throws Exception {
        String template = SLICES;
        assertThat(render(template)).isEqualTo(EXPECTED_SLICES);
    }

    @Test
    void pythonStringMethodsAndDictGetWork() throws Exception {
        assertThat(render(STRINGS)).isEqualTo(EXPECTED_STRINGS);
    }

    @Test
    void namespaceLoopVariablesTojsonAndStrftimeNowWork() throws Exception {
        assertThat(render(MISC)).isEqualTo(EXPECTED_MISC);
    }

    @Test
    void pythonReprOfListsAndDictsAndIterationOverDictKeys() throws Exception {
        assertThat(render("{{ ['a', 1] }}|{{ messages[0] }}|{% for k in messages[0] %}{{ k }};{% endfor %}"))
                .isEqualTo("['a', 1]|{'role': 'user', 'content': 'hi'}|role;content;");
    }

    @Test
    void keywordArgumentValuesAreWholeExpressionsAsInPython() throws Exception {
        // Qwen3's namespace(..., last_query_index=messages|length - 1): Jinjava alone applies "- 1" to the named parameter
        assertThat(render("{% set ns = namespace(last=messages|length - 1, seen=[1, 2], f=false) %}"
                + "{{ ns.last }}/{{ ns.seen | join('+') }}/{{ 'T' if ns.f == false else 'F' }}"))
                .isEqualTo("2/1+2/T");
        assertThat(ExpressionRewrite.rewrite("{{ f(a=x|length - 1, b=[1, 2], c == d, e) }}{% set g = 1 %}"))
                .isEqualTo("{{ f(a=(x|length - 1), b=([1, 2]), c == d, e) }}{% set g = 1 %}");
    }

    @Test
    void theRewriteTurnsSlicesIntoCallsAndLeavesTextStringsCommentsAndRawAlone() {
        assertThat(ExpressionRewrite.rewrite("a[1:2] {{ m[::-1] + x[a[1:]:] + '[1:2]' + [1, 2] + {'k': 1}['k'] }}"
                + "{# c[1:2] #}{% raw %}{{ r[::2] }}{% endraw %}{% set y = z[-2:] %}"))
                .isEqualTo("a[1:2] {{ m.__slice__(none, none, -1) + x.__slice__(a.__slice__(1, none), none) + '[1:2]'"
                        + " + [1, 2] + {'k': 1}['k'] }}{# c[1:2] #}{% raw %}{{ r[::2] }}{% endraw %}"
                        + "{% set y = z.__slice__(-2, none) %}");
    }

    @Test
    void aZeroStepIsAnErrorLikePythons() {
        assertThatThrownBy(() -> render("{{ messages[::0] }}"))
                .isInstanceOf(InvalidRecordException.class)
                .hasMessageContaining("slice step cannot be zero");
    }

    @Test
    void raiseExceptionStopsTheRenderWithTheTemplatesWords() {
        assertThatThrownBy(() -> render("{% if messages[0].role != 'system' %}{{ raise_exception('Need a system"
                + " message first') }}{% endif %}"))
                .isInstanceOf(InvalidRecordException.class)
                .hasMessage("chat template failed: Need a system message first");
    }

    static final String SLICES = "{{ messages[::-1] | map(attribute='role') | join(',') }}|"
            + "{{ 'abcdef'[::2] }}|"
            + "{{ 'abcdef'[-1:-4:-1] }}|"
            + "{{ 'abcdef'[1:] }}|"
            + "{{ 'abcdef'[:-2] }}|"
            + "{{ (messages | map(attribute='content') | list)[1::2] | join(',') }}|"
            + "{{ messages[5:] | length }}|"
            + "{{ 'abcdef'[10:0:-2] }}|"
            + "{{ [1, 2, 3, 4][-2:] | join(',') }}|"
            + "{{ messages[1:][0].content }}|"
            + "{{ {'k': [1, 2, 3][::-1]}['k'] | join(',') }}|"
            + "{{ '[a:b]' }}";
    static final String EXPECTED_SLICES = "user,assistant,user|"
            + "ace|"
            + "fed|"
            + "bcdef|"
            + "abcd|"
            + "yo|"
            + "0|"
            + "fdb|"
            + "3,4|"
            + "yo|"
            + "3,2,1|"
            + "[a:b]";

    static final String STRINGS = "{{ 'T' if 'abc'.startswith('ab') else 'F' }},{{ 'T' if 'abc'.startswith(('x', 'a')) else 'F' }}"
            + ",{{ 'T' if 'abc'.endswith('bc') else 'F' }},{{ 'T' if 'abc'.endswith('b') else 'F' }}|"
            + "{{ ' a b  c '.split() | join('/') }}|"
            + "{{ 'a,b,,c,'.split(',') | join('/') }}|"
            + "{{ 'a b c'.split(' ', 1) | join('/') }}|"
            + "{{ 'a b c'.rsplit(' ', 1) | join('/') }}|"
            + "[{{ '  x \\n'.strip() }}]|[{{ '  x \\n'.lstrip() }}]|[{{ '  x \\n'.rstrip() }}"
            + "]|[{{ 'xxaxx'.strip('x') }}]|[{{ '\\n\\nt\\n'.lstrip('\\n') }}]|[{{ 'ab--'.rstrip('-') }}"
            + "]|[{{ '\u00a0x\u00a0'.strip() }}]|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|"
            + "{{ messages[0].get('name', 'anon') }}";
    static final String EXPECTED_STRINGS = "T,T,T,F|"
            + "a/b/c|"
            + "a/b//c/|"
            + "a/b c|"
            + "a b/c|"
            + "[x]|"
            + "[x \n]|"
            + "[  x]|"
            + "[a]|"
            + "[t\n]|"
            + "[ab]|"
            + "[x]|"
            + "ABab|"
            + "anon";

    static final String MISC = "{% set ns = namespace(n=0, roles='') %}{% for m in messages %}{% if loop.first %}[{% endif %}"
            + "{{ loop.index0 }}:{{ m.role }}{% if not loop.last %},{% else %}]{% endif %}"
            + "{% set ns.n = ns.n + m.content | length %}{% set ns.roles = ns.roles + m.role[0] %}{% endfor %}"
            + " n={{ ns.n }} r={{ ns.roles }}|"
            + "{{ messages[0] | tojson }}|"
            + "{{ {'a': [1, 2.5, true, none], 'b': 'q\"\\n\u00e9'} | tojson }}|"
            + "{{ messages[0] | tojson(indent=2) }}|"
            + "{{ {'z': 1, 'a': []} | tojson(sort_keys=true) }}|"
            + "{% if strftime_now is defined %}{{ strftime_now('%d %b %Y') }}{% endif %}";
    static final String EXPECTED_MISC = "[0:user,1:assistant,2:user] n=8 r=uau|"
            + "{\"role\": \"user\", \"content\": \"hi\"}|"
            + "{\"a\": [1, 2.5, true, null], \"b\": \"q\\\"\\n\u00e9\"}|"
            + "{\n  \"role\": \"user\",\n  \"content\": \"hi\"\n}|"
            + "{\"a\": [], \"z\": 1}|"
            + "05 Dec 2026";
}
