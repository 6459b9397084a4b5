package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.Serving.AdapterFacts;
import io.finetune.api.Serving.Verdict;
import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.api.v1alpha1.LoraSpec;
import io.finetune.api.v1alpha1.MethodSpec;
import io.finetune.api.v1alpha1.MethodType;
import io.finetune.api.v1alpha1.OutputSpec;
import org.junit.jupiter.api.Test;

class ServingTest {
    @Test
    void maxLoraRankIsTheSmallestAllowedValueHoldingTheRank() {
        assertThat(Serving.vllmMaxLoraRankFor(1)).contains(1);
        assertThat(Serving.vllmMaxLoraRankFor(2)).contains(8);
        assertThat(Serving.vllmMaxLoraRankFor(16)).contains(16);
        assertThat(Serving.vllmMaxLoraRankFor(24)).contains(32);
        assertThat(Serving.vllmMaxLoraRankFor(300)).contains(320);
        assertThat(Serving.vllmMaxLoraRankFor(512)).contains(512);
        assertThat(Serving.vllmMaxLoraRankFor(513)).isEmpty();
    }

    @Test
    void plainLoraUpToDefaultRankLoadsInVllmWithoutANote() {
        Verdict v = Serving.adapter(new AdapterFacts(16, false, false, false));
        assertThat(v.servableBy()).containsExactly("peft", "vllm");
        assertThat(v.vllmProblem()).isNull();
        assertThat(v.note()).isNull();
    }

    @Test
    void rank24NeedsMaxLoraRank32() {
        Verdict v = Serving.adapter(new AdapterFacts(24, false, false, false));
        assertThat(v.servableBy()).containsExactly("peft", "vllm");
        assertThat(v.note()).contains("--max-lora-rank 32").contains("r=24").contains("default is 16");
    }

    @Test
    void doraModulesToSaveAndHugeRanksAreNotVllm() {
        Verdict dora = Serving.adapter(new AdapterFacts(8, true, false, false));
        assertThat(dora.servableBy()).containsExactly("peft");
        assertThat(dora.vllmProblem()).contains("use_dora").contains("spec.output.merge: true");
        Verdict saved = Serving.adapter(new AdapterFacts(8, false, true, false));
        assertThat(saved.servableBy()).containsExactly("peft");
        assertThat(saved.vllmProblem()).contains("modules_to_save");
        Verdict big = Serving.adapter(new AdapterFacts(1024, false, false, false));
        assertThat(big.servableBy()).containsExactly("peft");
        assertThat(big.vllmProblem()).contains("r=1024").contains("spec.method.lora.rank").contains("at most 512");
    }

    @Test
    void aQloraAdapterIsAPlainAdapterWhoseNoteSaysHowToLoadTheBase() {
        Verdict v = Serving.adapter(new AdapterFacts(8, false, false, true, "nf4"));
        assertThat(v.servableBy()).containsExactly("peft", "vllm");
        assertThat(v.vllmProblem()).isNull();
        assertThat(v.note()).contains("nf4 4-bit base").contains("bnb_4bit_quant_type=\"nf4\"")
                .contains("merged/ holds the dequantized base");
        io.finetune.api.v1alpha1.FineTuneJobSpec spec = new io.finetune.api.v1alpha1.FineTuneJobSpec();
        spec.model = new io.finetune.api.v1alpha1.ModelSpec();
        spec.model.quantization = new io.finetune.api.v1alpha1.QuantizationSpec();
        spec.model.quantization.type = io.finetune.api.v1alpha1.QuantizationType.FP4;
        spec.method = new io.finetune.api.v1alpha1.MethodSpec();
        spec.method.type = io.finetune.api.v1alpha1.MethodType.LoRA;
        assertThat(Serving.forSpec(spec).note()).contains("fp4 4-bit base");
    }

    @Test
    void mergedWeightsAreNamedAsTheWayToServeADoraRun() {
        Verdict v = Serving.adapter(new AdapterFacts(8, true, false, true));
        assertThat(v.servableBy()).containsExactly("peft");
        assertThat(v.vllmProblem()).contains("merged/");
        assertThat(v.note()).contains("merged/").contains("vllm");
    }

    @Test
    void fullWeightsLoadInAnyHuggingFaceServer() {
        assertThat(Serving.fullWeights().servableBy()).containsExactly("transformers", "vllm", "tgi");
        FineTuneJobSpec spec = new FineTuneJobSpec();
        spec.method = new MethodSpec();
        spec.method.type = MethodType.Full;
        assertThat(Serving.forSpec(spec).vllmProblem()).isNull();
    }

    @Test
    void specOfADoraJobIsJudgedBeforeTraining() {
        FineTuneJobSpec spec = new FineTuneJobSpec();
        spec.method = new MethodSpec();
        spec.method.type = MethodType.DoRA;
        spec.output = new OutputSpec();
        assertThat(Serving.forSpec(spec).vllmProblem()).contains("DoRA");
        spec.method.type = MethodType.LoRA;
        spec.method.lora = new LoraSpec();
        spec.method.lora.rank = 24;
        assertThat(Serving.forSpec(spec).vllmProblem()).isNull();
        assertThat(Serving.forSpec(spec).note()).contains("--max-lora-rank 32");
    }
}
