package io.finetune.trainer.data;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.tree.Node;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELResolver;

/**
 * A tokenizer's Jinja chat template (rendered with Jinjava, trim_blocks and lstrip_blocks on, as transformers does),
 * and the split of a rendered conversation into loss / no-loss pieces.
 *
 * <p>What transformers' Jinja2 environment has and Jinjava lacks is added here: Python slices with a step
 * ({@link ExpressionRewrite}), Python's string methods and {@code dict.get} ({@link PyMethods}), transformers' {@code tojson}
 * ({@link PyJson}), {@code raise_exception} and {@code strftime_now} ({@link TemplateFunctions}).
 *
 * <p>Assistant spans are found in the FULL rendering, because templates rewrite history (Qwen3 drops the
 * {@code <think>} block of every assistant turn before the last user message, so rendering a prefix of the conversation
 * is not a prefix of the whole). For assistant message i:
 * <ul>
 *   <li>its turn starts where {@code render(messages[:i], add_generation_prompt=True)} ends, which must be a prefix of
 *       the full rendering (or, when the template's generation prompt differs from what it renders for a real turn,
 *       where {@code render(messages[:i])} ends: the whole turn, header included, is then trained);</li>
 *   <li>the trained text is the longest tail of the turn as the template renders it when it is the last message
 *       ({@code render(messages[:i+1])} after that start: its content and end-of-turn, e.g. {@code yo<|im_end|>\n})
 *       that the full rendering has at that start. For a template that keeps history as it is (Llama, Gemma, ChatML)
 *       that is the whole turn, as TRL's prefix masking gives; for a template that drops a leading part of earlier
 *       turns (the reasoning) it is what the full rendering kept of the turn: its answer and end-of-turn.</li>
 * </ul>
 * A turn whose start cannot be found this way, or whose kept tail does not reach back to its content's last character, rejects
 * the record with a message saying which.
 */
final class ChatTemplate {
    /**
     * Used when the tokenizer has no chat_template: {@code <bos>role: content} per message, a newline after each
     * non-assistant message and eos right after each assistant message, e.g.
     * {@code "<s>user: hi\nassistant: hello</s>"}; the generation prompt is {@code "assistant: "}.
     */
    static final String DEFAULT = "{{ bos_token }}"
            + "{% for message in messages %}"
            + "{{ message['role'] + ': ' + message['content'] }}"
            + "{% if message['role'] == 'assistant' %}{{ eos_token }}{% else %}{{ newline }}{% endif %}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}";

    /** A piece of the rendered conversation and whether its tokens carry loss. */
    record Piece(String text, boolean loss) {}

    /** The roles every template renders; "tool" only where the template mentions tools (tool-calling templates). */
    static final List<String> ROLES = List.of("system", "user", "assistant");
    static final List<String> TOOL_ROLES = List.of("system", "user", "assistant", "tool");

    private final List<String> roles;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinja;
    /** Parsed once: Jinjava's renderForResult re-parses and copies every filter and function on each call (~15x slower). */
    private final Node root;
    private final List<TemplateError> parseErrors;
    /** Holds the registered filters/functions; each render gets a child context, so {% set %} never leaks across renders. */
    private final Context base;
    private final ZonedDateTime now;

    private static final ELResolver RESOLVER = new CompositeELResolver() {
        {
            add(new PyMethods());
            add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        }
    };

    ChatTemplate(String template, String bosToken, String eosToken) {
        this(template, bosToken, eosToken, ZonedDateTime.now());
    }

    /** @param now the date strftime_now formats (fixed for the template's life: one date for a whole run) */
    ChatTemplate(String template, String bosToken, String eosToken, ZonedDateTime now) {
        this.roles = template.contains("tool") ? TOOL_ROLES : ROLES;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinja = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // Message content is data: never evaluate "{{ }}" that a user wrote inside it.
                .withNestedInterpretationEnabled(false)
                // Python's string methods, dict.get and slices first; everything else as Jinjava resolves it.
                .withElResolver(RESOLVER)
                // Jinjava keeps pre-Jinja2 parsing by default for its own users; ask for the Jinja2-compatible variants.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        // Python's: {{ ['a'] }} prints ['a'], {% for k in dict %} walks keys, {key: v} evaluates key.
                        .withUsePyishObjectMapper(true)
                        .withIterateOverMapKeys(true)
                        .withEvaluateMapKeys(true)
                        .build())
                .build());
        Context globals = jinja.getGlobalContext();
        globals.registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateFunctions.class, "raiseException", String.class));
        globals.registerFunction(new ELFunctionDefinition("", "strftime_now",
                TemplateFunctions.class, "strftimeNow", String.class));
        globals.registerFilter(new PyJson());
        this.now = now;
        JinjavaInterpreter parser = jinja.newInterpreter();
        this.root = parser.parse(ExpressionRewrite.rewrite(template));
        this.parseErrors = fatal(parser.getErrorsCopy());
        this.base = jinja.newInterpreter().getContext();
    }

    String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) throws InvalidRecordException {
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        vars.put("newline", "\n");
        vars.put(TemplateFunctions.NOW, now);
        // transformers' globals are variables too: Llama 3.1 asks "strftime_now is defined" before calling it.
        vars.put("strftime_now", true);
        vars.put("raise_exception", true);
        if (!parseErrors.isEmpty()) {
            throw failure(parseErrors);
        }
        JinjavaInterpreter interpreter = new JinjavaInterpreter(jinja, new Context(base, vars), jinja.getGlobalConfig());
        JinjavaInterpreter.pushCurrent(interpreter);
        String output;
        try {
            output = interpreter.render(root, true);
        } catch (RuntimeException e) {
            throw new InvalidRecordException("chat template failed: " + describe(e, e.getMessage()));
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        List<TemplateError> fatal = fatal(interpreter.getErrorsCopy());
        if (!fatal.isEmpty()) {
            throw failure(fatal);
        }
        return output;
    }

    private static List<TemplateError> fatal(List<TemplateError> errors) {
        return errors.stream().filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).toList();
    }

    private static InvalidRecordException failure(List<TemplateError> fatal) {
        return new InvalidRecordException("chat template failed: "
                + fatal.stream().map(e -> describe(e.getException(), e.getMessage())).collect(Collectors.joining("; ")));
    }

    /** The template's own words when it called raise_exception, else Jinjava's message. */
    private static String describe(Throwable error, String fallback) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof TemplateFunctions.RaisedByTemplate) {
                return t.getMessage();
            }
        }
        return fallback;
    }

    /** The full rendering of {@code messages}, cut into pieces; assistant turns are the loss pieces. */
    List<Piece> pieces(List<Map<String, Object>> messages) throws InvalidRecordException {
        for (int i = 0; i < messages.size(); i++) {
            Object role = messages.get(i).get("role");
            if (!roles.contains(role)) {
                // A template renders any role string, so a typo ("asistant") or a foreign role would train silently.
                throw new InvalidRecordException("messages[" + i + "]: role '" + role + "' is not one the chat template"
                        + " knows " + roles);
            }
        }
        String full = render(messages, false);
        List<Piece> pieces = new ArrayList<>();
        int cursor = 0;
        for (int i = 0; i < messages.size(); i++) {
            if (!"assistant".equals(messages.get(i).get("role"))) {
                continue;
            }
            List<Map<String, Object>> before = messages.subList(0, i);
            int start = turnStart(full, before, cursor, i);
            String asLast = render(messages.subList(0, i + 1), false);
            if (!asLast.startsWith(full.substring(0, start))) {
                throw new InvalidRecordException("chat template is not prefix-stable (rendering the first " + (i + 1)
                        + " messages does not start like the whole conversation), cannot find assistant message " + i);
            }
            String turn = asLast.substring(start);
            int kept = keptTail(turn, full, start);
            if (kept < mustKeep(turn, String.valueOf(messages.get(i).get("content")))) {
                throw new InvalidRecordException("chat template renders assistant message " + i + " differently inside"
                        + " the conversation than as its last message (not only a dropped leading part), cannot find"
                        + " its turn in the whole rendering");
            }
            int end = start + kept;
            String trained = full.substring(start, end);
            pieces.add(new Piece(full.substring(cursor, start), false));
            pieces.add(new Piece(trained, true));
            cursor = end;
        }
        pieces.add(new Piece(full.substring(cursor), false));
        pieces.removeIf(p -> p.text().isEmpty());
        return pieces;
    }

    /** Where assistant message i's trained text starts in the full rendering (see the class doc). */
    private int turnStart(String full, List<Map<String, Object>> before, int cursor, int i) throws InvalidRecordException {
        String prompt = render(before, true);
        if (full.startsWith(prompt) && prompt.length() >= cursor) {
            return prompt.length();
        }
        // The template's generation prompt differs from what it renders for a real turn: train on the whole turn.
        String plain = render(before, false);
        if (full.startsWith(plain) && plain.length() >= cursor) {
            return plain.length();
        }
        throw new InvalidRecordException("chat template is not prefix-stable (rendering the " + i + " messages before"
                + " assistant message " + i + " is not a prefix of the whole conversation), cannot find where its turn"
                + " starts");
    }

    /** The length of the longest suffix of {@code turn} that {@code full} has at {@code start}. */
    static int keptTail(String turn, String full, int start) {
        for (int k = 0; k < turn.length(); k++) {
            int len = turn.length() - k;
            if (full.startsWith(turn.substring(k), start)) {
                return len;
            }
        }
        return 0;
    }

    /**
     * How much of the turn's tail the full rendering must keep for it to be this turn and not a chance match of its
     * closing: at least one character, and everything from the content's last non-blank character on (its answer's
     * end and the end-of-turn after it).
     */
    private static int mustKeep(String turn, String content) {
        String core = PyMethods.strip(content, null, true, true);
        if (core.isEmpty()) {
            return 1;
        }
        int at = turn.lastIndexOf(core.substring(core.offsetByCodePoints(core.length(), -1)));
        return at < 0 ? 1 : Math.max(1, turn.length() - at);
    }
}
