package io.finetune.trainer.quickstart;

import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.layout.FileTrees;
import ai.djl.ndarray.NDManager;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.model.Generator;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.storage.StorageUri;
import io.finetune.trainer.train.TrainingSummary;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The tiny quick start: writes the tiny base model and the word-reversal dataset under /tmp/finetune-quickstart, runs the
 * embedded examples/quickstart.yaml (LoRA) through {@link TrainingRun}, and prints held-out eval loss and greedy samples
 * before and after training. The {@code quickstart} command runs it with {@code --tiny} or where {@link RealQuickstart}
 * cannot run.
 */
public final class TinyQuickstart {
    public static final String RESOURCE = "/quickstart/quickstart.yaml";
    static final int SAMPLES = 6;
    /** Held-out words scored by exact match (greedy decoding) before and after training. */
    static final int SCORED = 48;

    private TinyQuickstart() {
    }

    public static String manifestText() throws IOException {
        try (InputStream in = TinyQuickstart.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE + " missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Where examples/quickstart.yaml puts the base model, the data and the output. */
    static final String ROOT = "/tmp/finetune-quickstart";

    public static int run(PrintStream out) throws Exception {
        return run(out, ROOT);
    }

    /**
     * The tiny quick start with its files under {@code root} instead of {@value #ROOT} (the test runs it in its own
     * directory, so a concurrent quick start on the same machine cannot delete its output).
     */
    public static int run(PrintStream out, String root) throws Exception {
        RunSpec job = RunSpecReader.read(FineTuneJobManifest.parse(manifestText().replace("file://" + ROOT + "/",
                "file://" + root + "/"), "quickstart.yaml (embedded)"));
        Path modelDir = StorageUri.localFile(job.sources().model());
        Path trainFile = StorageUri.localFile(job.sources().dataset());
        Path evalFile = StorageUri.localFile(job.sources().evalDataset());
        Path output = TrainingRun.defaultOutput(job);
        out.printf("quick start: base model %s, data %s, output %s%n", modelDir, trainFile.getParent(), output);
        ModelPreset.TINY.write(42, modelDir);
        List<QuickstartTask.Sample> train = QuickstartTask.samples(3000, 1, Set.of());
        Set<String> trainWords = new java.util.HashSet<>();
        train.forEach(s -> trainWords.add(s.prompt()));
        List<QuickstartTask.Sample> eval = QuickstartTask.samples(128, 2, Set.of()).stream()
                .filter(s -> !trainWords.contains(s.prompt())).toList();
        QuickstartTask.writeJsonl(trainFile, train);
        QuickstartTask.writeJsonl(evalFile, eval);
        FileTrees.deleteTree(output); // a previous quick start would otherwise be resumed from its checkpoints
        List<QuickstartTask.Sample> scored = eval.subList(0, Math.min(SCORED, eval.size()));
        List<String> before = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(modelDir);
             LlamaModel base = LlamaModel.load(modelDir, NDManager.newBaseManager())) {
            for (QuickstartTask.Sample s : scored) {
                before.add(decode(base, tok, s.prompt()));
            }
        }
        List<String> after = new ArrayList<>();
        TrainingSummary summary = TrainingRun.local(job, output, out, TrainingRun.Options.DEFAULT, (model, tok) -> {
            for (QuickstartTask.Sample s : scored) {
                after.add(decode(model, tok, s.prompt()));
            }
        }).summary();
        out.printf("%nheld-out eval loss: %.3f -> %.3f (%d steps, %.0f s, %.0f tokens/s)%n", summary.evalLossBefore(),
                summary.evalLossAfter(), summary.steps(), summary.durationSeconds(), summary.tokensPerSecond());
        out.printf("%-10s %-10s %-10s %s%n", "prompt", "expected", "before", "after");
        for (int i = 0; i < SAMPLES; i++) {
            QuickstartTask.Sample s = scored.get(i);
            out.printf("%-10s %-10s %-10s %s%n", s.prompt(), s.completion(), printable(before.get(i)), printable(after.get(i)));
        }
        out.printf("exact match on %d held-out words (greedy): %d before -> %d after training; adapter in %s%n", scored.size(),
                exact(scored, before), exact(scored, after), output);
        return 0;
    }

    private static int exact(List<QuickstartTask.Sample> samples, List<String> outputs) {
        int n = 0;
        for (int i = 0; i < samples.size(); i++) {
            n += samples.get(i).completion().equals(outputs.get(i)) ? 1 : 0;
        }
        return n;
    }

    static String decode(LlamaModel model, TextTokenizer tok, String prompt) {
        int[] p = tok.encode(prompt);
        int[] ids = new int[p.length + 1];
        ids[0] = tok.bosId().orElse(1);
        System.arraycopy(p, 0, ids, 1, p.length);
        int[] gen = Generator.greedy(model, ids, QuickstartTask.MAX_LEN + 2, tok.eosId().orElse(2));
        return tok.decode(gen);
    }

    private static String printable(String s) {
        return "'" + s.replace("\n", "\\n") + "'";
    }
}
