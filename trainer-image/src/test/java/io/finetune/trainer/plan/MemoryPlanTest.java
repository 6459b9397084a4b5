package io.finetune.trainer.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.finetune.api.v1alpha1.GaloreSpec;
import io.finetune.api.v1alpha1.LoraPlusSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.trainer.Specs;
import io.finetune.trainer.method.MemoryEstimate;
import io.finetune.trainer.method.PlanInputs;
import io.finetune.trainer.method.TrainingMethods;
import io.finetune.trainer.model.ModelConfig;
import io.finetune.trainer.spec.MethodSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryPlanTest {
    @TempDir
    Path dir;

    private static final String LLAMA2_7B = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008,
             "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "vocab_size": 32000,
             "rms_norm_eps": 1e-05, "tie_word_embeddings": false, "torch_dtype": "float16"}""";

    /** 1 layer, hidden 8, GQA 2 heads / 1 kv head (headDim 4), SwiGLU 16, vocab 10, untied: small enough to count by hand. */
    private static final String HAND = """
            {"model_type": "llama", "hidden_size": 8, "intermediate_size": 16, "num_attention_heads": 2,
             "num_key_value_heads": 1, "num_hidden_layers": 1, "vocab_size": 10}""";

    private ModelConfig config(String json) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        return ModelConfig.readFile(file);
    }

    private static MethodSpec method(MethodType type, int loraRank, List<String> loraTargets, int galoreRank) {
        MethodSpec m = new MethodSpec();
        m.type = type;
        m.lora = new LoraSpec();
        m.lora.rank = loraRank;
        m.lora.targetModules = loraTargets;
        m.galore = new GaloreSpec();
        m.galore.rank = galoreRank;
        return m;
    }

    @Test
    void llama2SevenBillionMatchesPublishedParameterCounts() throws IOException {
        ModelConfig d = config(LLAMA2_7B);
        assertThat(d.totalParams()).isEqualTo(6_738_415_616L); // Llama-2-7b-hf
        MethodSpec qv = method(MethodType.LoRA, 8, List.of("q_proj", "v_proj"), 128);
        // 1 x 256 tokens: with every tensor of a step counted (method.ActivationMemory; the plan was too low before), GaLore
        // at 1 x 512 plans 25 GiB of activations, 12.5 of them the 16-bit autocast copies of the fp32 weights, and totals
        // 79.07 GiB: over 80Gi with the runtime reserve. At 1 x 256 it fits, which is what this example is about.
        PlanInputs in = new PlanInputs(1, 256, 2);
        // PEFT prints "trainable params: 4,194,304" for r=8 on q_proj,v_proj of LLaMA-2-7B.
        assertThat(estimate(d, MethodType.LoRA, qv, in).trainableParams()).isEqualTo(4_194_304L);

        MemoryPlan plan = MemoryPlan.of(d, Specs.method(qv), in, ByteQuantity.parse("80Gi"));
        MemoryEstimate full = plan.estimate(MethodType.Full);
        // Mixed precision as autocast: every weight trains, so it stays an fp32 master (4), with an fp32 gradient (4) and
        // fp32 Adam moments (8): 16 bytes per parameter.
        assertThat(full.optimizerStateBytes()).isEqualTo(8L * 6_738_415_616L);
        assertThat(full.weightBytes() + full.gradientBytes()).isEqualTo(8L * 6_738_415_616L);
        // LoRA: the frozen 7B base in bf16 (norms fp32), the adapter fp32 with its gradient and moments.
        MemoryEstimate lora = plan.estimate(MethodType.LoRA);
        long norms = (2L * 32 + 1) * 4096;
        assertThat(lora.weightBytes()).isEqualTo(2L * (6_738_415_616L - norms) + 4L * norms + 4L * 4_194_304);
        assertThat(lora.gradientBytes()).isEqualTo(4L * 4_194_304);
        assertThat(lora.optimizerStateBytes()).isEqualTo(8L * 4_194_304);
        assertThat(plan.fits(MethodType.Full)).as("16 bytes per parameter of 7B exceed 80Gi").isFalse();
        assertThat(plan.fits(MethodType.LoRA)).isTrue();
        assertThat(plan.fits(MethodType.GaLore)).as("GaLore r=128 of 7B fits 80Gi").isTrue();
        // GaLore keeps compact moments: far below Full.
        assertThat(plan.estimate(MethodType.GaLore).optimizerStateBytes()).isLessThan(full.optimizerStateBytes() / 2);
        assertThat(plan.table()).contains("* LoRA").contains("NO").contains("GaLore");
    }

    @Test
    void handCountedTinyModel() throws IOException {
        ModelConfig d = config(HAND);
        // linears 64+32+32+64+128+128+128 + lm_head 80 = 656; embedding 80 + 3 norms x 8 = 104
        assertThat(d.totalParams()).isEqualTo(760);
        MethodSpec spec = method(MethodType.GaLore, 2, List.of("q_proj", "v_proj"), 4);
        PlanInputs in = new PlanInputs(2, 3, 4);

        MemoryEstimate lora = estimate(d, MethodType.LoRA, spec, in);
        assertThat(lora.trainableParams()).isEqualTo(2 * (8 + 8) + 2 * (8 + 4));
        assertThat(lora.optimizerStateBytes()).isEqualTo(4L * 2 * 56);
        assertThat(lora.gradientBytes()).isEqualTo(4L * 56);
        assertThat(lora.weightBytes()).isEqualTo(4L * (760 + 56));
        assertThat(estimate(d, MethodType.DoRA, spec, in).trainableParams()).isEqualTo(56 + 8 + 4);
        assertThat(estimate(d, MethodType.LoRAPlus, spec, in).trainableParams()).isEqualTo(56);

        // GaLore r=4 on all-linear (lm_head excluded): q 2·4·8+4·8, k and v 2·4·8+4·4, o like q, gate/up/down 2·4·16+4·8;
        // the remaining 184 parameters (embedding, norms, lm_head) keep plain Adam moments.
        MemoryEstimate galore = estimate(d, MethodType.GaLore, spec, in);
        assertThat(galore.optimizerStateBytes()).isEqualTo(4L * (96 + 80 + 80 + 96 + 160 * 3 + 2 * 184));
        assertThat(galore.trainableParams()).isEqualTo(760);
        assertThat(galore.gradientBytes()).isEqualTo(4L * 760);

        MemoryEstimate full = estimate(d, MethodType.Full, spec, in);
        assertThat(full.optimizerStateBytes()).isEqualTo(4L * 2 * 760);
        // Activations as method.ActivationMemory counts every tensor a step allocates (fp32; h 8, q 8, k 4, i 16, heads x seq
        // 6), per token: the layer 286 floats (norms 64, q/k/v 16, RoPE 54, repeat_kv 16, attention 48, MLP 88), the
        // unchunked head 100 (embedding, final norm 5h, logits, loss and their gradients 6V), the backward's transients 76
        // (2·heads·seq + 3i + 2h); per step: the mask 18, cos/sin 48, Full's weight gradients in flight and a clipping square
        // 3 x 128.
        // (Before that count the plan held only what autograd saves, 140 + 36 per token: the measured step was 1.3 to 6
        // times larger, BENCHMARKS.md section 7.)
        assertThat(full.activationBytes()).isEqualTo((2L * 3 * (286 + 100 + 76) + 18 + 48 + 3 * 128) * 4);
    }

    @Test
    void badConfigNamesFileAndKey() throws IOException {
        assertThatThrownBy(() -> config("{\"model_type\": \"llama\", \"hidden_size\": 8}"))
                .hasMessageContaining("config.json").hasMessageContaining("num_attention_heads");
        assertThatThrownBy(() -> config("{\"model_type\": \"gpt2\"}")).hasMessageContaining("model_type 'gpt2'");
        assertThatThrownBy(() -> config("{not json")).hasMessageContaining("config.json").hasMessageContaining("not valid JSON");
    }

    @Test
    void quantities() {
        assertThat(ByteQuantity.parse("80Gi")).isEqualTo(80L << 30);
        assertThat(ByteQuantity.parse("24G")).isEqualTo(24_000_000_000L);
        assertThat(ByteQuantity.parse("512Mi")).isEqualTo(512L << 20);
        assertThat(ByteQuantity.parse("1048576")).isEqualTo(1L << 20);
        assertThat(ByteQuantity.format(3L << 29)).isEqualTo("1.50 GiB");
        assertThatThrownBy(() -> ByteQuantity.parse("80 gigs")).hasMessageContaining("80 gigs");
    }

    /** The method's own estimate with the helper's settings block for that method (LoRA+ at ratio 1, as the plan uses). */
    private static MemoryEstimate estimate(ModelConfig d, MethodType type, MethodSpec settings, PlanInputs in) {
        MethodSpec own = new MethodSpec();
        own.type = type;
        own.lora = type.isAdapter() ? settings.lora : null;
        own.galore = type == MethodType.GaLore ? settings.galore : null;
        if (type == MethodType.LoRAPlus) {
            own.loraPlus = new LoraPlusSpec();
            own.loraPlus.learningRateRatio = 1.0;
        }
        return TrainingMethods.create(MethodSettings.forPlan(type, Specs.method(own))).estimateMemory(d, in);
    }
}
