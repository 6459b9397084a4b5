package io.finetune.trainer.method.full;

import io.finetune.api.ArtifactFormat;
import io.finetune.api.Serving;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.safetensors.ModelWeights;
import io.finetune.trainer.safetensors.SafetensorsWriter;
import io.finetune.trainer.method.ActivationMemory;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.MethodOutput;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TrainingMethod;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.model.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

/**
 * Full fine-tuning: every base parameter trainable with AdamW. Writes model.safetensors with the base model's config.json and
 * tokenizer files, so the output is a complete Hugging Face model directory.
 */
public final class FullMethod implements TrainingMethod {
    /** Full weights in Hugging Face layout: any server that loads a Hugging Face checkpoint. */
    public static final MethodOutput OUTPUT = new MethodOutput(ArtifactFormat.HF_FULL, Serving.fullWeights());

    @Override
    public MethodType type() {
        return MethodType.Full;
    }

    @Override
    public void attach(LlamaModel model, long seed) {
        model.baseParameters().values().forEach(Parameter::makeTrainable);
    }

    /** Every parameter trains in fp32: weights, gradients and Adam moments (2x) for all of them. */
    @Override
    public MemoryEstimate estimateMemory(ModelConfig dims, PlanInputs in) {
        long params = dims.totalParams();
        return new MemoryEstimate(type(), params, params, params * MemoryEstimate.FP32_BYTES, params * MemoryEstimate.FP32_BYTES,
                2L * params * MemoryEstimate.ADAM_STATE_BYTES, ActivationMemory.bytes(dims, in, List.of(), ActivationMemory.Trains.WEIGHTS, false));
    }

    @Override
    public MethodOutput saveOutput(LlamaModel model, OutputTarget target) throws IOException {
        Files.createDirectories(target.dir());
        SafetensorsWriter.write(target.dir().resolve(ModelWeights.SINGLE), model.stateDict());
        target.copyModelFiles(target.dir());
        return OUTPUT;
    }
}
