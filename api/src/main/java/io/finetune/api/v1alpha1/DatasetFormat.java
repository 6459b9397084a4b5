package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** JSONL record shapes. */
public enum DatasetFormat {
    /** {"text": "..."}: loss on every token. */
    @JsonProperty("text")
    TEXT,
    /** {"prompt": "...", "completion": "..."}: loss on completion tokens only. */
    @JsonProperty("prompt-completion")
    PROMPT_COMPLETION,
    /** {"messages": [{"role": ..., "content": ...}]}: loss on assistant turns only. */
    @JsonProperty("chat")
    CHAT
}
