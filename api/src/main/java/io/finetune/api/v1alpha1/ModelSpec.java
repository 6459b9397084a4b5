package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The base model. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelSpec {
    @Required
    @Pattern(Uris.PATTERN)
    @JsonPropertyDescription("URI of the model directory: pvc://claim/path, s3://bucket/prefix, https://..., hf://org/name[@revision] or file:///path (local runs). It holds a Hugging Face model (config.json + safetensors) whose model_type is llama, mistral, qwen2, qwen3, phi3, gemma2 or gemma3_text (sliding windows honoured); other families, and rope_scaling types other than llama3 and linear (e.g. Phi-3 longrope), are refused before training.")
    public String source;

    @Pattern(Uris.PATTERN)
    @JsonPropertyDescription("URI of a directory holding tokenizer.json when it is not next to the model. Default: the model directory.")
    public String tokenizer;

    @JsonPropertyDescription("Name of a Secret in the job's namespace with credentials for the model source (S3 keys or HF_TOKEN). Default: none.")
    public String credentialsSecret;

    @JsonPropertyDescription("Hold the frozen base in 4 bits (QLoRA): {type: nf4|fp4, doubleQuant, computeDtype}. Only with LoRA, DoRA and LoRAPlus. Default: none (weights as loaded).")
    public QuantizationSpec quantization;
}
