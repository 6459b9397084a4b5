package io.finetune.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run <job> --nproc 2} through the real {@code Main} in a child JVM, with a job whose model is missing: both ranks
 * (real trainer processes) fail on their own with exit 3 and their own {@code error:} line, and the launcher exits 3 with
 * one line naming the first rank that failed. No training, so it takes a few seconds.
 */
class RunNprocTest {
    @TempDir
    Path dir;

    @Test
    void twoRanksThatFailGiveTheFirstFailuresCodeAndOneLineNamingIt() throws Exception {
        Path job = Files.writeString(dir.resolve("job.yaml"), """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: nproc
                spec:
                  model:
                    source: file://%s
                  dataset:
                    source: file://%s
                    format: prompt-completion
                  method:
                    type: LoRA
                  training:
                    maxSteps: 2
                  output:
                    destination: file://%s
                """.formatted(dir.resolve("no-model"), dir.resolve("train.jsonl"), dir.resolve("out")));
        Files.writeString(dir.resolve("train.jsonl"), "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "run", job.toString(), "--nproc", "2").redirectErrorStream(true)
                .redirectOutput(dir.resolve("launcher.log").toFile());
        pb.environment().remove("RANK");
        pb.environment().remove("WORLD_SIZE");
        Process launcher = pb.start();
        try {
            assertThat(launcher.waitFor(120, TimeUnit.SECONDS)).as("launcher ended").isTrue();
            String out = Files.readString(dir.resolve("launcher.log"), StandardCharsets.UTF_8);
            assertThat(launcher.exitValue()).as(out).isEqualTo(3);
            assertThat(out).contains("launching 2 processes (ranks 0-1 of 2, node 0 of 1, master 127.0.0.1:");
            // rank 0 fetches first and names the missing model; rank 1, waiting for it at the barrier, names rank 0
            assertThat(out).as(out).containsPattern("(?m)^\\[rank 0\\] error: .*no-model");
            assertThat(out).as(out).containsPattern("(?m)^\\[rank 1\\] error: rank 1 of 2: .*rank 0");
            List<String> own = out.lines().filter(l -> l.startsWith("error: ")).toList();
            assertThat(own).as(out).singleElement().asString()
                    .matches("error: rank 0 exited with code 3; (the first of 2 ranks to fail"
                            + "|the cause: rank 1 ended first, with code 4, having lost a peer)");
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
            launcher.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
