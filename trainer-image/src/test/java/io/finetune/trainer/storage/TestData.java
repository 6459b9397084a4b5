package io.finetune.trainer.storage;

import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.distributed.SingleProcessGroup;
import io.finetune.trainer.layout.RunLayout;
import io.finetune.trainer.run.TrainingRun;
import io.finetune.trainer.spec.RunSpecReader;
import io.finetune.trainer.train.StopRequest;
import io.finetune.trainer.train.TrainingHooks;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/** Tiny "model" directories and datasets written by the tests themselves, plus env helpers. */
final class TestData {
    static final RetryPolicy FAST_RETRY = new RetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(20));

    private TestData() {
    }

    /** config.json, tokenizer.json and a 300 KB random "model.safetensors" in a nested layout. */
    static Path model(Path dir, long seed) throws IOException {
        Files.createDirectories(dir.resolve("tokenizer"));
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 16, \"seed\": " + seed + "}\n");
        Files.writeString(dir.resolve("tokenizer/tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}\n");
        Files.write(dir.resolve("model.safetensors"), bytes(300_000, seed));
        return dir;
    }

    static Path dataset(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"prompt\": \"2+2=\", \"completion\": \"4\"}\n{\"prompt\": \"3+3=\", \"completion\": \"6\"}\n",
                StandardCharsets.UTF_8);
        return file;
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Asserts-friendly view: relative path -> content, skipping manifest.json. */
    static Map<String, String> contents(Path dir) throws IOException {
        Map<String, String> out = new HashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = dir.relativize(p).toString();
                if (!rel.equals(RunLayout.MANIFEST)) {
                    out.put(rel, Manifest.sha256(p));
                }
            }
        }
        return out;
    }

    static StorageEnvironment env(Map<String, String> vars) {
        return StorageEnvironment.fromEnv(new HashMap<>(vars)).withRetry(FAST_RETRY);
    }

    /** One local, single-process run of {@code job} (what {@code TrainingRun} does for the run command). */
    static TrainingRun.Result runJob(FineTuneJob job, Storage storage, Path output, PrintStream log,
                                     TrainingRun.AfterTraining after) throws IOException {
        return new TrainingRun(RunSpecReader.read(job), storage, output, TrainingRun.Options.DEFAULT, TrainingHooks.NONE,
                StopRequest.process(), new SingleProcessGroup(), log).run(after);
    }
}
