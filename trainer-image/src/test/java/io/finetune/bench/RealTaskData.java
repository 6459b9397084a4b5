package io.finetune.bench;

import io.finetune.trainer.quickstart.QuickstartTask;
import io.finetune.trainer.quickstart.QuickstartTask.Sample;
import io.finetune.trainer.quickstart.WordnetTask;
import io.finetune.trainer.llama2c.Stories15M;
import java.nio.file.Path;
import java.util.List;

/**
 * Data for bench/methods.sh's real task (not a unit test): the quick start's WordNet split ({@link WordnetTask}, held out by
 * word) written as DIR/train.jsonl and DIR/eval.jsonl (the first EVAL held-out words, 64 as the quick start uses), and the
 * imported stories15M directory (fetched and imported once, {@link Stories15M}) printed on stdout as {@code model=PATH}.
 * <pre>
 *   RealTaskData DIR [EVAL]
 * </pre>
 */
public final class RealTaskData {
    private RealTaskData() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: RealTaskData DIR [EVAL]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int evalCount = args.length == 2 ? Integer.parseInt(args[1]) : 64;
        Path model = Stories15M.hfModel(System.err);
        WordnetTask.Split split = WordnetTask.build(WordnetTask.DEFAULT_DIR);
        List<Sample> eval = split.eval().subList(0, Math.min(evalCount, split.eval().size()));
        QuickstartTask.writeJsonl(dir.resolve("train.jsonl"), split.train());
        QuickstartTask.writeJsonl(dir.resolve("eval.jsonl"), eval);
        System.out.printf("model=%s train=%d eval=%d%n", model, split.train().size(), eval.size());
    }
}
