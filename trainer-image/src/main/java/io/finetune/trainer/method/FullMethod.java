package io.finetune.trainer.method;

import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.Parameter;
import java.io.IOException;
import java.nio.file.Path;

/** Full fine-tuning: every base parameter trainable with AdamW; output is a complete model in Hugging Face layout. */
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
        java.nio.file.Files.createDirectories(outputDir);
        model.save(outputDir, model.stateDict(), -1, -1);
    }
}
