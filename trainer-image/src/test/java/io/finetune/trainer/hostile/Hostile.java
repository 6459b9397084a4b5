package io.finetune.trainer.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.CliCapture;
import io.finetune.trainer.TinyModels;
import io.finetune.trainer.model.ModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Shared set-up of the hostile-input suite: a tiny model and dataset on disk, a manifest writer, the CLI run in-process, and
 * a snapshot of a directory tree (path -> sha256) to prove that no existing file changed and nothing was added.
 */
final class Hostile {
    /** d=32, 2 layers, kv dim 16 (k_proj/v_proj are 32 -> 16), vocab 102 (char tokenizer). */
    static final ModelConfig CONFIG = TinyModels.CHAR_MODEL;

    private Hostile() {
    }

    static Path model(Path dir) throws IOException {
        return TinyModels.writeCharModel(dir);
    }

    static Path data(Path file) throws IOException {
        return TinyModels.writeReversalDataset(file, 40);
    }

    /** A LoRA job (name, rank, model, dataset URI, destination URI); maxSteps 4, a checkpoint at step 2. */
    static String job(String name, int rank, String model, String dataset, String destination) {
        return """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                spec:
                  model:
                    source: %s
                  dataset:
                    source: %s
                    format: prompt-completion
                    evalFraction: 0.2
                    maxSeqLength: 32
                  method:
                    type: LoRA
                    lora:
                      rank: %d
                      alpha: 8
                      targetModules: [q_proj, v_proj]
                  training:
                    maxSteps: 4
                    batchSize: 4
                    learningRate: 0.01
                    checkpointEverySteps: 2
                    logEverySteps: 2
                  output:
                    destination: %s
                """.formatted(name, model, dataset, rank, destination);
    }

    static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, text);
        return file;
    }

    record Outcome(int code, String out, String err) {
        /** The class of outcome every hostile case must have: this exit code, one error line naming {@code what}, no trace. */
        Outcome refused(int exitCode, String what) {
            assertThat(code).as("exit code; stderr: %s", err).isEqualTo(exitCode);
            assertThat(err.lines().filter(l -> l.startsWith("error: ")).toList()).as(err).hasSize(1);
            assertThat(err.lines().filter(l -> l.startsWith("error: ")).findFirst().orElseThrow()).contains(what);
            assertThat(err).as("no stack trace without --debug").doesNotContain("\tat ").doesNotContain("Exception in");
            return this;
        }
    }

    static Outcome run(String... args) {
        CliCapture.Result r = CliCapture.run(args);
        return new Outcome(r.code(), r.out(), r.err());
    }

    /** Every regular file under {@code root} (relative path -> sha256); empty map when root does not exist. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        if (!Files.exists(root)) {
            return out;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), sha256(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
