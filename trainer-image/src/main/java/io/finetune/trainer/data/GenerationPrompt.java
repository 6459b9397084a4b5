package io.finetune.trainer.data;

import io.finetune.api.v1alpha1.DatasetFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The token ids a model sees just before it should start answering, laid out exactly as in training, so sample
 * generations before/after fine-tuning continue from the same place the loss was taught: text and prompt-completion
 * -> [bos] prompt; chat -> the chat template (or the default rendering) of one user message with the generation prompt.
 */
public final class GenerationPrompt {
    private GenerationPrompt() {}

    /** @throws IllegalArgumentException when the chat template cannot render a single user message */
    public static int[] encode(TextTokenizer tok, DatasetFormat format, String prompt) {
        if (format == DatasetFormat.CHAT) {
            ChatTemplate template = new ChatTemplate(tok.chatTemplate().orElse(ChatTemplate.DEFAULT),
                    tok.bosToken().orElse(""), tok.eosToken().orElse(""));
            Map<String, Object> user = new LinkedHashMap<>();
            user.put("role", "user");
            user.put("content", prompt);
            try {
                return tok.encode(template.render(new ArrayList<>(List.of(user)), true));
            } catch (InvalidRecordException e) {
                throw new IllegalArgumentException("cannot build a generation prompt: " + e.getMessage(), e);
            }
        }
        int[] body = tok.encode(prompt);
        if (tok.bosId().isEmpty()) {
            return body;
        }
        int[] out = new int[body.length + 1];
        out[0] = tok.bosId().getAsInt();
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }
}
