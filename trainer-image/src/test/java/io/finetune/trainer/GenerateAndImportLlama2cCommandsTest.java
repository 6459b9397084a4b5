package io.finetune.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.trainer.cli.InitModel;
import io.finetune.trainer.model.ModelPreset;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate and import-llama2c through the CLI: a continuation on success, one "error:" line and exit 2 on bad input. */
class GenerateAndImportLlama2cCommandsTest {
    @TempDir
    Path dir;

    private static CliCapture.Result run(String... args) {
        return CliCapture.run(args);
    }

    @Test
    void generateContinuesThePromptAndRejectsBadOptions() throws Exception {
        Path model = dir.resolve("tiny");
        ModelPreset.TINY.write(42, model);
        CliCapture.Result ok = run("generate", "--model", model.toString(), "--prompt", "abc=", "--max-new-tokens", "5");
        assertThat(ok.code()).isZero();
        assertThat(ok.out()).startsWith("abc=");
        CliCapture.Result sampled = run("generate", "--model", model.toString(), "--prompt", "abc=", "--max-new-tokens", "5",
                "--temperature", "1.5", "--seed", "3");
        assertThat(sampled.code()).isZero();
        assertThat(run("generate", "--model", model.toString(), "--prompt", "abc=", "--max-new-tokens", "5",
                "--temperature", "1.5", "--seed", "3").out()).isEqualTo(sampled.out());
        CliCapture.Result bad = run("generate", "--model", model.toString(), "--prompt", "x", "--temperature", "-1");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).startsWith("error: generate: --max-new-tokens must be >= 1 and --temperature >= 0");
        CliCapture.Result noAdapter = run("generate", "--model", model.toString(), "--prompt", "x", "--adapter", dir.toString());
        assertThat(noAdapter.code()).isEqualTo(3);   // bad input, not usage (cli/ErrorReport)
        assertThat(noAdapter.err()).startsWith("error: " + dir + ": not a PEFT adapter directory");
    }

    @Test
    void importLlama2cNamesTheFileItCannotRead() throws Exception {
        Path bin = Files.write(dir.resolve("model.bin"), new byte[] {1, 2, 3});
        Path tok = Files.write(dir.resolve("tokenizer.bin"), new byte[8]);
        CliCapture.Result r = run("import-llama2c", bin.toString(), tok.toString(), "--output", dir.resolve("out").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).startsWith("error: " + bin + ": 3 bytes, too short for a llama2.c header");
        CliCapture.Result missing = run("import-llama2c", dir.resolve("nope.bin").toString(), tok.toString(), "--output", "x");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.bin does not exist");
    }
}
