package io.finetune.trainer.cli;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.method.lora.AdapterMerge;
import io.finetune.trainer.model.Generator;
import io.finetune.trainer.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code generate --model DIR [--adapter DIR] --prompt TEXT [--max-new-tokens N] [--temperature T --seed S]}: continues the
 * prompt with the model (a PEFT adapter merged in first), greedy unless a temperature is given, stopping at eos.
 */
@Command(name = "generate",
        description = "Continue a prompt (greedy by default, stopping at eos; an adapter is merged first).")
public final class Generate implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "the model directory (Hugging Face layout)")
    Path modelDir;

    @Option(names = "--adapter", paramLabel = "DIR", description = "a PEFT LoRA/DoRA adapter to merge first")
    Path adapter;

    @Option(names = "--prompt", paramLabel = "TEXT", required = true, description = "the text to continue")
    String prompt;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
            description = "at most this many tokens (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "0: greedy; above 0: sampled with --seed (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "the sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    Generate() {
    }

    @Override
    public Integer call() throws IOException {
        if (!Double.isFinite(temperature)) {
            throw new UsageException("generate: --temperature must be a number, got '" + temperature + "'");
        }
        Generator.Options o = new Generator.Options(maxNewTokens, temperature, seed);
        if (o.maxNewTokens() < 1 || o.temperature() < 0) {
            throw new UsageException("generate: --max-new-tokens must be >= 1 and --temperature >= 0");
        }
        if (!Files.isDirectory(modelDir)) {
            throw new UsageException("generate: --model " + modelDir + " is not a directory");
        }
        try (TextTokenizer tok = TextTokenizer.load(modelDir);
             LlamaModel m = LlamaModel.load(modelDir, NDManager.newBaseManager())) {
            if (adapter != null) {
                merge(m, adapter);
            }
            System.out.println(Generator.complete(m, tok, prompt, o));
        }
        return 0;
    }

    /** Merges a PEFT adapter into the loaded base weights, in place. */
    public static void merge(LlamaModel model, Path adapterDir) throws IOException {
        AdapterMerge.mergeInto(model, adapterDir);
    }

}
