package io.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.trainer.failure.UsageException;
import io.finetune.trainer.plan.ByteQuantity;
import io.finetune.trainer.plan.PlanCheck;
import io.finetune.trainer.spec.RunSpecReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PlanCommandTest {
    @TempDir
    Path dir;

    private static final String LLAMA2_7B = """
            {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 32, "vocab_size": 32000}""";

    /**
     * A 7B job at a micro-batch of 1 x 512 tokens. (It was 4 x 1024 while the plan counted only what autograd saves; with
     * every tensor a step allocates counted, method.ActivationMemory, LoRA at 4 x 1024 plans 158 GiB of activations and
     * fits no single GPU, so the admit/refuse examples moved to a micro-batch where LoRA fits 80Gi and Full fits 141Gi.)
     */
    private Path manifest(String method, String source) throws Exception {
        Path model = dir.resolve("llama2-7b");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), LLAMA2_7B);
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: plan-me
                spec:
                  model:
                    source: %s
                  dataset:
                    source: file:///data/train.jsonl
                    format: text
                    maxSeqLength: 512
                  method:
                    type: %s
                  training:
                    batchSize: 1
                  output:
                    destination: file:///out
                """.formatted(source == null ? "file://" + model : source, method);
        Path file = dir.resolve(method + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private static String[] args(String... a) {
        return a;
    }

    /** The command as the CLI runs it (options parsed by picocli), its failures thrown rather than reported. */
    private static int command(String[] argv, PrintStream out) throws Exception {
        return CommandLine.populateCommand(new PlanCommand(out), Arrays.copyOfRange(argv, 1, argv.length)).call();
    }

    @Test
    void printsEveryMethodAndExitsThreeWhenTheJobsMethodDoesNotFit() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int full = command(args("plan", manifest("Full", null).toString(), "--device-memory", "80Gi"), out);
        String text = buf.toString(StandardCharsets.UTF_8);
        assertThat(full).isEqualTo(PlanCommand.DOES_NOT_FIT);
        assertThat(text).contains("* Full").contains("LoRA").contains("DoRA").contains("LoRAPlus").contains("GaLore")
                .contains("6,738,415,616 parameters").contains("Full does NOT fit in 80.00 GiB");

        buf.reset();
        assertThat(command(args("plan", manifest("LoRA", null).toString()), out)).isZero();
        assertThat(buf.toString(StandardCharsets.UTF_8)).contains("* LoRA").contains("LoRA fits in 80.00 GiB")
                .doesNotContain("Data parallel");
    }

    @Test
    void withSeveralGpusThePlanIsPerRankAndNamesTheAllReduceBucket() throws Exception {
        Path job = manifest("Full", null);
        Files.writeString(job, Files.readString(job).replace("  output:", "  resources:\n    gpus: 4\n  output:"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        command(args("plan", job.toString(), "--device-memory", "80Gi"), new PrintStream(buf, true, StandardCharsets.UTF_8));
        // Full trains 6.7B parameters: the bucket is capped at DDP's 25 MiB
        assertThat(buf.toString(StandardCharsets.UTF_8)).contains("Data parallel: 4 ranks")
                .contains("activations for its own micro-batch of 1").contains("all-reduce bucket of 25.00 MiB in host memory")
                .contains("global batch is 4 x 1 rows");
    }

    @Test
    void remoteModelNeedsALocalConfigAndBadQuantitiesAreUsageErrors() throws Exception {
        Path remote = manifest("LoRA", "s3://bucket/llama");
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        assertThatThrownBy(() -> command(args("plan", remote.toString()), sink))
                .isInstanceOf(UsageException.class).hasMessageContaining("--model-config");
        assertThat(command(args("plan", remote.toString(), "--model-config", dir.resolve("llama2-7b").toString()),
                sink)).isZero();
        assertThatThrownBy(() -> command(args("plan", remote.toString(), "--device-memory", "lots"), sink))
                .isInstanceOf(UsageException.class).hasMessageContaining("lots");
    }

    @Test
    void failFastCheckNamesTheShortfallAndTheMethodsThatFit() throws Exception {
        FineTuneJob job = FineTuneJobManifest.read(manifest("Full", null));
        Path config = dir.resolve("llama2-7b/config.json");
        assertThatThrownBy(() -> PlanCheck.requireFits(RunSpecReader.read(job), config, ByteQuantity.parse("80Gi"), true))
                .isInstanceOf(PlanCheck.DoesNotFitException.class)
                .hasMessageContaining("Full would run out of memory")
                .hasMessageContaining("methods that fit: LoRA, DoRA, LoRAPlus;");
        assertThat(PlanCheck.requireFits(RunSpecReader.read(job), config, ByteQuantity.parse("141Gi"), true).fits(
                RunSpecReader.read(job).method().type())).isTrue();
    }
}
