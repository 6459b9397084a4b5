package io.finetune.trainer.data;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.tree.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A tokenizer's Jinja chat template (rendered with Jinjava, trim_blocks and lstrip_blocks on, as transformers does),
 * and the split of a rendered conversation into loss / no-loss pieces.
 *
 * <p>Assistant spans are found the way TRL's assistant-only masking does it, by rendering prefixes: for the assistant
 * message i, {@code render(messages[:i], add_generation_prompt=True)} ends where its content starts and
 * {@code render(messages[:i+1])} ends where its turn (content and the template's end-of-turn, e.g. eos) ends. A template
 * whose prefixes are not prefixes of the full rendering cannot be masked this way and the record is rejected.
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

    ChatTemplate(String template, String bosToken, String eosToken) {
        this.roles = template.contains("tool") ? TOOL_ROLES : ROLES;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinja = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // Message content is data: never evaluate "{{ }}" that a user wrote inside it.
                .withNestedInterpretationEnabled(false)
                // Jinjava keeps pre-Jinja2 parsing by default for its own users; ask for the Jinja2-compatible variants.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .build())
                .build());
        // Hugging Face templates call raise_exception('...') to reject conversations they cannot render.
        jinja.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        JinjavaInterpreter parser = jinja.newInterpreter();
        this.root = parser.parse(template);
        this.parseErrors = fatal(parser.getErrorsCopy());
        this.base = jinja.newInterpreter().getContext();
    }

    public static Object raiseException(String message) {
        throw new RaisedByTemplate(message);
    }

    String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) throws InvalidRecordException {
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        vars.put("newline", "\n");
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
            if (t instanceof RaisedByTemplate) {
                return t.getMessage();
            }
        }
        return fallback;
    }

    /** The exception raise_exception throws, so its message can be told apart from Jinjava's own wrapping. */
    private static final class RaisedByTemplate extends RuntimeException {
        RaisedByTemplate(String message) {
            super(message);
        }
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
            String turnEnd = render(messages.subList(0, i + 1), false);
            String contentStart = render(before, true);
            if (!turnEnd.startsWith(contentStart)) {
                // The template's generation prompt differs from what it renders for a real turn: train on the whole turn.
                contentStart = render(before, false);
            }
            if (!full.startsWith(turnEnd) || !turnEnd.startsWith(contentStart) || contentStart.length() < cursor) {
                throw new InvalidRecordException("chat template is not prefix-stable (rendering the first " + (i + 1)
                        + " messages is not a prefix of the whole conversation), cannot find the assistant turn");
            }
            pieces.add(new Piece(full.substring(cursor, contentStart.length()), false));
            pieces.add(new Piece(full.substring(contentStart.length(), turnEnd.length()), true));
            cursor = turnEnd.length();
        }
        pieces.add(new Piece(full.substring(cursor), false));
        pieces.removeIf(p -> p.text().isEmpty());
        return pieces;
    }
}
