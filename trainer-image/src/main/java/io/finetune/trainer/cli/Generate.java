package io.finetune.trainer.cli;

import ai.djl.ndarray.NDManager;
import io.finetune.trainer.data.TextTokenizer;
import io.finetune.trainer.method.lora.AdapterMerge;
import io.finetune.trainer.model.Generator;
import io.finetune.trainer.model.LlamaModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * {@code generate --model DIR [--adapter DIR] --prompt TEXT [--max-new-tokens N] [--temperature T --seed S]}: continues the
 * prompt with the model (a PEFT adapter merged in first), greedy unless a temperature is given, stopping at eos.
 */
public final class Generate {
    public static final String USAGE = """
              generate --model DIR [--adapter DIR] --prompt TEXT [--max-new-tokens 64] [--temperature 0 --seed 0]
                                                           continue a prompt (greedy by default; an adapter is merged first)
            """;

    /** Decoding settings; temperature 0 means greedy (argmax). */
    public record Options(int maxNewTokens, double temperature, long seed) {
        public static final Options GREEDY = new Options(64, 0, 0);
    }

    private Generate() {
    }

    public static int command(String[] argv, PrintStream out) throws IOException {
        Args a = Args.parse("generate", argv, 1, Set.of("model", "adapter", "prompt", "max-new-tokens", "temperature", "seed"));
        if (!a.positional().isEmpty()) {
            throw new UsageException("generate: unexpected argument " + a.positional());
        }
        String model = a.options().get("model");
        String prompt = a.options().get("prompt");
        if (model == null || prompt == null) {
            throw new UsageException("generate: --model DIR and --prompt TEXT are required");
        }
        Options o = new Options(intOption(a, "max-new-tokens", 64), doubleOption(a, "temperature", 0),
                seedOption(a));
        if (o.maxNewTokens() < 1 || o.temperature() < 0) {
            throw new UsageException("generate: --max-new-tokens must be >= 1 and --temperature >= 0");
        }
        Path modelDir = Path.of(model);
        if (!Files.isDirectory(modelDir)) {
            throw new UsageException("generate: --model " + modelDir + " is not a directory");
        }
        Path adapter = a.options().containsKey("adapter") ? Path.of(a.options().get("adapter")) : null;
        try (TextTokenizer tok = TextTokenizer.load(modelDir);
             LlamaModel m = LlamaModel.load(modelDir, NDManager.newBaseManager())) {
            if (adapter != null) {
                merge(m, adapter);
            }
            out.println(complete(m, tok, prompt, o));
        }
        return 0;
    }

    /** Merges a PEFT adapter into the loaded base weights, in place. */
    public static void merge(LlamaModel model, Path adapterDir) throws IOException {
        AdapterMerge.mergeInto(model, adapterDir);
    }

    /** The prompt followed by its continuation, as text (bos is added before the prompt, special tokens are not shown). */
    public static String complete(LlamaModel model, TextTokenizer tok, String prompt, Options o) {
        int[] p = tok.encode(prompt);
        int[] ids = new int[p.length + 1];
        ids[0] = tok.bosId().orElse(1);
        System.arraycopy(p, 0, ids, 1, p.length);
        int[] gen = continuation(model, ids, o, tok.eosId().orElse(-1));
        int[] all = Arrays.copyOf(ids, ids.length + gen.length);
        System.arraycopy(gen, 0, all, ids.length, gen.length);
        return tok.decode(all);
    }

    /** The generated ids after {@code prompt}, stopping at eos (not included), maxNewTokens, or the model's context length. */
    public static int[] continuation(LlamaModel model, int[] prompt, Options o, int eosId) {
        int limit = Math.min(o.maxNewTokens(), Math.max(0, model.config().maxPositionEmbeddings() - prompt.length));
        return Generator.generate(model, prompt, limit, eosId, o.temperature(), o.seed());
    }

    private static int intOption(Args a, String name, int def) {
        try {
            return Integer.parseInt(a.option(name, Integer.toString(def)));
        } catch (NumberFormatException e) {
            throw new UsageException("generate: --" + name + " must be an integer, got '" + a.option(name, "") + "'");
        }
    }

    private static long seedOption(Args a) {
        try {
            return Long.parseLong(a.option("seed", "0"));
        } catch (NumberFormatException e) {
            throw new UsageException("generate: --seed must be an integer, got '" + a.option("seed", "") + "'");
        }
    }

    private static double doubleOption(Args a, String name, double def) {
        try {
            double v = Double.parseDouble(a.option(name, Double.toString(def)));
            if (!Double.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new UsageException("generate: --" + name + " must be a number, got '" + a.option(name, "") + "'");
        }
    }
}
