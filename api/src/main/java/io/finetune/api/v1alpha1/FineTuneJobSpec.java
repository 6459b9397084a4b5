package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** What to fine-tune, on what, how, where the result goes, and on which hardware. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FineTuneJobSpec {
    /** CEL transition rule message: servers with CEL refuse spec edits; the operator ignores and reports them elsewhere. */
    static final String IMMUTABLE = "is immutable once created (only spec.suspend may change): delete and recreate the FineTuneJob";

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @Required
    @JsonPropertyDescription("The base model to fine-tune (a Hugging Face model directory: config.json, safetensors, tokenizer.json).")
    public ModelSpec model;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @Required
    @JsonPropertyDescription("The training data (JSONL) and how to read and split it.")
    public DatasetSpec dataset;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @Required
    @JsonPropertyDescription("The fine-tuning method (LoRA, DoRA, LoRAPlus, GaLore, Full) and its settings.")
    public MethodSpec method;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @JsonPropertyDescription("Optimisation settings: epochs or steps, learning rate and schedule, batch size, checkpoints.")
    public TrainingSpec training = new TrainingSpec();

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @Required
    @JsonPropertyDescription("Where the adapter (or full weights), checkpoints and the training summary are written.")
    public OutputSpec output;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @JsonPropertyDescription("Evaluation gate: eval-loss thresholds the run must meet before its output is published, and "
            + "best-checkpoint selection. Default: none (every finished run is published).")
    public EvaluationSpec evaluation;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @JsonPropertyDescription("Auto: a small CPU-only Job checks the dataset, targetModules, the memory plan and storage before the "
            + "GPU Job is created; Skip: create the GPU Job directly. Default: Auto.")
    public PreflightMode preflight = PreflightMode.Auto;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @JsonPropertyDescription("Hardware for the training pod: GPUs, CPU, memory and scheduling constraints.")
    public ResourcesSpec resources = new ResourcesSpec();

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @JsonPropertyDescription("Trainer container image. Default: the operator's configured trainer image.")
    public String image;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @JsonPropertyDescription("Kueue LocalQueue to submit the training Job to (sets the label kueue.x-k8s.io/queue-name). The Job is created suspended and only Kueue unsuspends it (phase Queued until then, and again after an eviction, which checkpoints). Default: none.")
    public String queueName;

    @JsonPropertyDescription("When true the training Job is suspended (no pods run); set back to false to resume. With spec.queueName, false hands the Job back to Kueue: it runs once Kueue admits it. Default: false.")
    public Boolean suspend = false;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @Min(0)
    @JsonPropertyDescription("How many times a failed training pod is retried (resuming from the latest checkpoint). Default: 3.")
    public Integer backoffLimit = 3;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @Min(1)
    @JsonPropertyDescription("Wall-clock limit in seconds for the whole training Job, retries included. Default: no limit.")
    public Long activeDeadlineSeconds;

    @ValidationRule(value = "self == oldSelf", message = IMMUTABLE)
    @Min(0)
    @JsonPropertyDescription("Seconds after the Job finishes before its pods are deleted (the FineTuneJob and artifact stay). Default: none.")
    public Integer ttlSecondsAfterFinished;
}
