package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import java.util.List;

/** The result of a run. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Artifact {
    @JsonPropertyDescription("Where the artifact was written.")
    public String uri;

    @Pattern("^sha256:[a-f0-9]{64}$")
    @JsonPropertyDescription("sha256 of the artifact's manifest (file list with sizes and sha256), as sha256:<64 hex>.")
    public String digest;

    @JsonPropertyDescription("Total size of the artifact files, bytes.")
    public Long sizeBytes;

    @JsonPropertyDescription("peft-lora (PEFT adapter) or hf-full (Hugging Face model directory).")
    public String format;

    @JsonPropertyDescription("Servers that load the artifact at uri as written: peft, vllm (not for DoRA, modules_to_save or rank > 512), "
            + "transformers, tgi (full weights).")
    public List<String> servableBy;

    @JsonPropertyDescription("How to serve it, when a server needs a setting (e.g. vLLM's --max-lora-rank for r > 16) or why vLLM "
            + "is not listed, with the fix. Default: none.")
    public String servingNote;
}
