package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/**
 * EndToEndTest's tiny model (the trainer jar's init-model, preset tiny, seed 7) and 48-line digit-reversal dataset, and a
 * 6-step LoRA FineTuneJob on them that leaves image, cpu and memory to the operator's defaults.
 */
final class TinyLoraJob {
    static final int STEPS = 6;

    private TinyLoraJob() {
    }

    /** Writes {@code work/model} and {@code work/train.jsonl}. */
    static void initModelAndData(Path work) throws Exception {
        Process p = new ProcessBuilder(Repo.java().toString(), "-jar", Repo.trainerJar().toString(), "init-model", "--preset",
                "tiny", "--seed", "7", "--output", work.resolve("model").toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("init-model.log").toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(work.resolve("init-model.log"))).isZero();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 48; i++) {
            String w = Integer.toString(1000 + i * 37);
            sb.append("{\"prompt\": \"").append(w).append("=\", \"completion\": \"")
                    .append(new StringBuilder(w).reverse()).append("\"}\n");
        }
        Files.writeString(work.resolve("train.jsonl"), sb);
    }

    /** Creates FineTuneJob {@code namespace/name} writing to {@code work/out/<name>}; no spec.image, no cpu/memory. */
    static FineTuneJob submit(KubernetesClient client, Path work, String namespace, String name) {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  model:
                    source: file://%s
                  dataset:
                    source: file://%s
                    format: prompt-completion
                    evalFraction: 0.125
                    maxSeqLength: 32
                  method:
                    type: LoRA
                    lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: %d, batchSize: 4, learningRate: 0.01, logEverySteps: 1, seed: 11}
                  resources: {gpus: 1}
                  preflight: Skip   # PreflightEndToEndTest covers the preflight
                  output:
                    destination: file://%s
                """.formatted(name, namespace, work.resolve("model"), work.resolve("train.jsonl"), STEPS, output(work, name));
        FineTuneJob job = client.resources(FineTuneJob.class)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        return client.resources(FineTuneJob.class).inNamespace(namespace).resource(job).create();
    }

    static Path output(Path work, String name) {
        return work.resolve("out").resolve(name);
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
