package io.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.trainer.Main;
import io.finetune.trainer.Specs;
import io.finetune.trainer.method.OutputTarget;
import io.finetune.trainer.method.lora.LoraMethod;
import io.finetune.trainer.model.LlamaModel;
import io.finetune.trainer.model.ModelPreset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees from {@code generate}: the continuation and nothing else, on a machine without a GPU. Runs the CLI in a
 * child JVM because libtorch writes its warnings to the process's native stderr, which no System.err capture sees. Known
 * noise is removed at its source, never by filtering the stream (a real error must still show): DJL's CUDA probe warning
 * (runtime/CudaProbe), and libtorch's "AutoNonVariableTypeMode is deprecated" line, which DJL's NDArray.set(float[])
 * triggers and which the trainer no longer calls (OwnedArrays.copyInto).
 */
class GenerateCleanOutputTest {
    @TempDir
    Path dir;

    @Test
    void generateWithAnAdapterPrintsOnlyTheContinuation() throws Exception {
        Path model = dir.resolve("tiny");
        ModelPreset.TINY.write(42, model);
        Path adapter = dir.resolve("adapter");
        try (LlamaModel base = LlamaModel.load(model, NDManager.newBaseManager())) {
            LoraSpec spec = new LoraSpec();
            spec.rank = 4;
            spec.targetModules = List.of("q_proj", "v_proj");
            LoraMethod lora = LoraMethod.of(Specs.lora(spec));
            lora.attach(base, 1);
            lora.saveOutput(base, OutputTarget.of(adapter, model.toString()));
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path stdout = dir.resolve("stdout.txt");
        Path stderr = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "generate", "--model", model.toString(), "--adapter", adapter.toString(),
                "--prompt", "abc=", "--max-new-tokens", "4")
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(stdout);
        String err = Files.readString(stderr);
        assertThat(p.exitValue()).as(out + err).isZero();
        assertThat(out.lines().toList()).as("stdout: the continuation only").singleElement()
                .satisfies(line -> assertThat(line).startsWith("abc="));
        assertThat(err).as("libtorch's deprecation warning").doesNotContain("AutoNonVariableTypeMode");
        assertThat(err.lines().filter(l -> l.startsWith("Warning:") || l.startsWith("[W") || l.contains(" WARN ")))
                .as("no warning on a healthy CPU-only run").isEmpty();
    }
}
