package io.finetune.trainer.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.ComputeDtype;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.Specs;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.quant.QuantType;
import io.finetune.trainer.spec.QuantizationSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan counts a 4-bit base at its stored size and offers QLoRA where LoRA does not fit. */
class QloraPlanTest {
    @TempDir
    Path dir;

    private static final String LLAMA2_70B = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672,
             "num_attention_heads": 64, "num_hidden_layers": 80, "num_key_value_heads": 8, "vocab_size": 32000,
             "rms_norm_eps": 1e-05, "tie_word_embeddings": false}""";

    /** Stored bytes of one NF4 tensor of n values, counted by hand: n/2 code bytes, 1 byte per 64, 4 per 256 blocks, offset. */
    private static long nf4DoubleQuant(long n) {
        long blocks = n / 64;
        return n / 2 + blocks + 4 * ((blocks + 255) / 256) + 4;
    }

    @Test
    void seventyBillionLoraDoesNotFitEightyGibButQloraDoes() throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, LLAMA2_70B);
        ModelConfig d = ModelConfig.readFile(file);
        assertThat(d.totalParams()).isEqualTo(68_976_648_192L); // Llama-2-70b-hf
        LoraSpec s = new LoraSpec();
        s.rank = 16;
        s.targetModules = List.of("q_proj", "v_proj");
        PlanInputs in = new PlanInputs(1, 512, 2);
        MemoryPlan plan = MemoryPlan.of(d, Specs.lora(s), in, ByteQuantity.parse("80Gi"));
        assertThat(plan.fits(MethodType.LoRA)).as("bf16 weights of 70B alone are ~138 GB").isFalse();
        assertThat(plan.qlora()).isNotNull();
        assertThat(plan.fittingMethods()).contains(MemoryPlan.QLORA).doesNotContain("LoRA,");
        assertThat(plan.table()).contains("QLoRA");
        System.out.print(plan.table());

        // The weights by hand: decoder linears in NF4 with double quantization, embedding and lm_head in bf16, norms fp32.
        long h = 8192;
        long kv = 1024;
        long inter = 28672;
        long perLayer = 2 * nf4DoubleQuant(h * h) + 2 * nf4DoubleQuant(h * kv) + 3 * nf4DoubleQuant(h * inter);
        long norms = (2L * 80 + 1) * h;
        long trainable = 80L * 16 * ((h + h) + (h + kv));
        MemoryEstimate q = plan.qlora();
        assertThat(q.trainableParams()).isEqualTo(trainable);
        assertThat(q.weightBytes()).isEqualTo(80 * perLayer + 2L * 2 * 32000 * h + 4 * norms + 4 * trainable);
        double perParam = (double) (80 * perLayer) / (d.totalParams() - 2L * 32000 * h - norms);
        assertThat(perParam).isBetween(0.515, 0.517);
        assertThat(q.totalBytes()).isLessThan(plan.estimate(MethodType.LoRA).totalBytes() / 3);
    }

    @Test
    void aQuantizedJobIsPlannedAtItsStoredSizeAndOffersNoSecondQlora() throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, LLAMA2_70B);
        ModelConfig d = ModelConfig.readFile(file);
        LoraSpec s = new LoraSpec();
        s.rank = 16;
        QuantizationSettings nf4 = new QuantizationSettings(QuantType.NF4, false, ComputeDtype.AUTO);
        MemoryPlan plan = MemoryPlan.of(d, Specs.lora(s), new PlanInputs(1, 512, 2, nf4), ByteQuantity.parse("80Gi"));
        assertThat(plan.qlora()).isNull();
        assertThat(plan.fits(MethodType.LoRA)).isTrue();
        assertThat(plan.fits(MethodType.DoRA)).isTrue();
        // Without double quantization: 0.5 + 4/64 bytes per decoder weight.
        long linears = d.totalParams() - 2L * 32000 * 8192 - (2L * 80 + 1) * 8192;
        MemoryEstimate lora = plan.estimate(MethodType.LoRA);
        long rest = lora.weightBytes() - 4L * lora.trainableParams() - 2L * 2 * 32000 * 8192 - 4L * (2L * 80 + 1) * 8192;
        assertThat((double) rest / linears).isEqualTo(0.5 + 4.0 / 64);
    }
}
