package io.finetune.trainer.cli;

import io.finetune.trainer.quickstart.RealQuickstart;
import io.finetune.trainer.quickstart.TinyQuickstart;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code quickstart}: the real quick start ({@link RealQuickstart}: stories15M learns WordNet definitions) where the model and
 * WordNet can be had, else, or with {@code --tiny}, the tiny one ({@link TinyQuickstart}: word reversal on a random model).
 */
@Command(name = "quickstart", description = {"Fine-tune a small model on a small task, with LoRA, and show the difference.",
    "stories15M (else the tiny random model) + a WordNet task (else word reversal);",
    "eval loss and samples before and after training."})
final class Quickstart implements Callable<Integer> {
    @Option(names = "--tiny", description = "skip stories15M: the tiny random model and the word-reversal task (nothing fetched)")
    boolean tiny;

    Quickstart() {
    }

    @Override
    public Integer call() throws Exception {
        if (tiny) {
            return TinyQuickstart.run(System.out);
        }
        String why = RealQuickstart.unavailable(System.out);
        if (why == null) {
            return RealQuickstart.run(System.out);
        }
        System.out.printf("quick start: %s; falling back to the tiny random model (word reversal)%n", why);
        return TinyQuickstart.run(System.out);
    }
}
