package io.finetune.trainer.data;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
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

    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinja;

    ChatTemplate(String template, String bosToken, String eosToken) {
        this.template = template;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinja = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
        // Hugging Face templates call raise_exception('...') to reject conversations they cannot render.
        jinja.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
    }

    public static Object raiseException(String message) {
        throw new IllegalArgumentException(message);
    }

    String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) throws InvalidRecordException {
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        vars.put("newline", "\n");
        RenderResult result;
        try {
            result = jinja.renderForResult(template, vars);
        } catch (RuntimeException e) {
            throw new InvalidRecordException("chat template failed: " + e.getMessage());
        }
        List<TemplateError> fatal = result.getErrors().stream()
                .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).toList();
        if (!fatal.isEmpty()) {
            throw new InvalidRecordException("chat template failed: "
                    + fatal.stream().map(TemplateError::getMessage).collect(Collectors.joining("; ")));
        }
        return result.getOutput();
    }

    /** The full rendering of {@code messages}, cut into pieces; assistant turns are the loss pieces. */
    List<Piece> pieces(List<Map<String, Object>> messages) throws InvalidRecordException {
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
