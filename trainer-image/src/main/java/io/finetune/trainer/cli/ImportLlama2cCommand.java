package io.finetune.trainer.cli;

import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.llama2c.ImportLlama2c;
import io.finetune.trainer.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code import-llama2c <model.bin> <tokenizer.bin> --output DIR}: see {@link ImportLlama2c}. */
@Command(name = "import-llama2c", description = "Convert a llama2.c checkpoint + tokenizer to Hugging Face LLaMA layout.")
final class ImportLlama2cCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<model.bin>", description = "the llama2.c checkpoint")
    Path model;

    @Parameters(index = "1", paramLabel = "<tokenizer.bin>", description = "the llama2.c tokenizer")
    Path tokenizer;

    @Option(names = "--output", paramLabel = "DIR", required = true, description = "the Hugging Face model directory to write")
    Path out;

    @Override
    public Integer call() throws IOException {
        for (Path p : new Path[] {model, tokenizer}) {
            if (!Files.isRegularFile(p)) {
                throw new UsageException("import-llama2c: " + p + " does not exist");
            }
        }
        ModelConfig config = ImportLlama2c.convert(model, tokenizer, out);
        System.out.printf("imported %s (%d layers, d=%d, %d heads, vocab %d) to %s%n", model, config.numHiddenLayers(),
                config.hiddenSize(), config.numAttentionHeads(), config.vocabSize(), out.toAbsolutePath());
        return 0;
    }
}
