package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.io.ModelWeights;
import io.finetune.trainer.io.SafetensorsWriter;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Full fine-tuning: every base parameter trainable with AdamW. Writes model.safetensors; the job runner adds config.json and
 * the tokenizer files, so the output is a complete Hugging Face model directory.
 */
public final class FullMethod implements TrainingMethod {
    @Override
    public MethodType type() {
        return MethodType.Full;
    }

    @Override
    public void attach(LlamaModel model, long seed) {
        model.baseParameters().values().forEach(Parameter::makeTrainable);
    }

    @Override
    public void saveOutput(LlamaModel model, Path outputDir, String baseModel) throws IOException {
        Files.createDirectories(outputDir);
        SafetensorsWriter.write(outputDir.resolve(ModelWeights.SINGLE), model.stateDict());
    }
}
