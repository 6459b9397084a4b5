package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Optimisation settings (AdamW with decoupled weight decay; warmup then the chosen schedule). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingSpec {
    @Min(1)
    @Max(10000)
    @JsonPropertyDescription("Passes over the training split. Ignored when maxSteps is set. Default: 1.")
    public Integer epochs = 1;

    @Min(1)
    @JsonPropertyDescription("Total optimizer steps; overrides epochs when set. Default: none (epochs decide).")
    public Integer maxSteps;

    @Min(value = 0, inclusive = false)
    @Max(1)
    @JsonPropertyDescription("Peak learning rate (> 0). Default: 0.0002.")
    public Double learningRate = 2e-4;

    @Min(1)
    @Max(4096)
    @JsonPropertyDescription("Sequences per micro-batch. Default: 8.")
    public Integer batchSize = 8;

    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Micro-batches whose gradients are summed before each optimizer step. Default: 1.")
    public Integer gradientAccumulationSteps = 1;

    @Min(0)
    @JsonPropertyDescription("Optimizer steps of linear warmup from 0 to learningRate. Default: 0.")
    public Integer warmupSteps = 0;

    @JsonPropertyDescription("Schedule after warmup: cosine, linear or constant. Default: cosine.")
    public SchedulerType scheduler = SchedulerType.COSINE;

    @Min(0)
    @JsonPropertyDescription("Decoupled (AdamW) weight decay, applied to trainable 2-D weights. Default: 0.")
    public Double weightDecay = 0.0;

    @Min(0)
    @JsonPropertyDescription("Clip the global gradient L2 norm to this value; 0 disables clipping. Default: 1.0.")
    public Double maxGradNorm = 1.0;

    @JsonPropertyDescription("Seed for initialisation, data order, dropout and the eval split; same seed -> same loss curve on CPU. Default: 42.")
    public Long seed = 42L;

    @Min(0)
    @JsonPropertyDescription("Write a resumable checkpoint every N optimizer steps (0: only at the end). Default: 100.")
    public Integer checkpointEverySteps = 100;

    @Min(1)
    @JsonPropertyDescription("Complete checkpoints kept, locally and at the destination: once a newer one is published in full, older ones beyond this count are deleted (the newest is never deleted, the output never). Default: 3.")
    public Integer keepCheckpoints = 3;

    @Min(1)
    @JsonPropertyDescription("Print and report progress every N optimizer steps. Default: 10.")
    public Integer logEverySteps = 10;

    @Min(1)
    @Max(86400)
    @JsonPropertyDescription("Seconds the trainer gets after SIGTERM (pod deleted, evicted, preempted, Job suspended) to finish its optimizer step and write a checkpoint before SIGKILL; the pod's terminationGracePeriodSeconds. Default: 120.")
    public Integer checkpointGracePeriodSeconds;

    @JsonPropertyDescription("Numeric precision: auto (bf16 on capable GPUs, fp32 on CPU), fp32, bf16 or fp16. Default: auto.")
    public Precision precision = Precision.AUTO;
}
