/**
 * Training data: tokenizer, JSONL datasets, held-out split and batches.
 *
 * <p>Flow: {@link io.finetune.trainer.data.TextTokenizer#load} -> {@link io.finetune.trainer.data.DatasetLoader#load}
 * (records -> {@link io.finetune.trainer.data.Example}s, policies, split, {@link io.finetune.trainer.data.DataStats})
 * -> {@link io.finetune.trainer.data.Batcher} (padding or packing, shuffled per epoch) -> {@link io.finetune.trainer.data.Batch}.
 *
 * <p>Sequences (labels follow the Hugging Face convention: aligned with the inputs, -100 = no loss):
 * <ul>
 *   <li>text: {@code [bos] text [eos]}, loss on every token;</li>
 *   <li>prompt-completion: {@code [bos] prompt completion [eos]}, loss on completion and eos;</li>
 *   <li>chat: the tokenizer's chat_template (Jinja, rendered by Jinjava) or, without one, {@code <bos>role: content}
 *       per message with a newline after non-assistant messages and eos after assistant ones; loss on each assistant
 *       turn (its content plus whatever the template closes the turn with, e.g. eos or an end-of-turn token), found in
 *       the full rendering so that templates which rewrite history (Qwen3 drops earlier {@code <think>} blocks) are
 *       masked on what the model sees (see {@link io.finetune.trainer.data.ChatTemplate}). Jinja2's Python constructs
 *       that Jinjava lacks (slices with steps, string methods, transformers' tojson, raise_exception, strftime_now)
 *       are added by ExpressionRewrite, PyMethods, PyJson and TemplateFunctions.</li>
 * </ul>
 * Text inside a record that spells a special token (e.g. "&lt;/s&gt;") encodes as that token, as in transformers.
 */
package io.finetune.trainer.data;
