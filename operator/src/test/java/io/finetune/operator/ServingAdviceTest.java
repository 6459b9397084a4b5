package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import org.junit.jupiter.api.Test;

/** At admission, before any training, the job says whether vLLM will load what it is about to produce. */
class ServingAdviceTest extends ControllerTestBase {
    private static FineTuneJob job(String name, String method, boolean merge) {
        return TestJobs.parse(name, """
                model: {source: pvc://models/tiny-llama}
                dataset: {source: pvc://data/train.jsonl}
                method:
                  type: %s
                  lora: {rank: %d}
                output: {destination: pvc://out/run, merge: %s}
                """.formatted(method, method.equals("LoRA") ? 24 : 8, merge));
    }

    @Test
    void doraJobWarnsAtAdmissionNamingTheSettingAndTheFix() {
        FineTuneJob ftj = create(job("dora", "DoRA", false));
        FineTuneJobStatus status = reconcile(ftj);

        Condition c = Conditions.find(status.conditions, ConditionType.ServingCompatible).orElseThrow();
        assertThat(c.getStatus()).isEqualTo("False");
        assertThat(c.getReason()).isEqualTo("NotServableByVllm");
        assertThat(c.getMessage()).contains("spec.method.type: DoRA").contains("spec.output.merge: true");
        assertThat(jobs()).as("a warning, not a refusal: the adapter still loads in PEFT").hasSize(1);
        Event warning = eventObjects(ftj).stream().filter(e -> "NotServableByVllm".equals(e.getReason())).findFirst().orElseThrow();
        assertThat(warning.getType()).isEqualTo("Warning");
        assertThat(warning.getMessage()).contains("use_dora");

        reconcile(ftj);
        assertThat(events(ftj)).as("the warning is recorded once, not on every pass")
                .filteredOn(e -> e.endsWith("NotServableByVllm")).hasSize(1);
    }

    @Test
    void loraRank24IsServableAndSaysWhichMaxLoraRankVllmNeeds() {
        FineTuneJob ftj = create(job("r24", "LoRA", false));
        FineTuneJobStatus status = reconcile(ftj);

        Condition c = Conditions.find(status.conditions, ConditionType.ServingCompatible).orElseThrow();
        assertThat(c.getStatus()).isEqualTo("True");
        assertThat(c.getMessage()).contains("vllm").contains("--max-lora-rank 32");
        assertThat(events(ftj)).noneMatch(e -> e.endsWith("NotServableByVllm"));
    }

    @Test
    void mergedDoraStillWarnsButPointsAtTheMergedWeights() {
        FineTuneJob ftj = create(job("dora-merged", "DoRA", true));
        Condition c = Conditions.find(reconcile(ftj).conditions, ConditionType.ServingCompatible).orElseThrow();
        assertThat(c.getStatus()).isEqualTo("False");
        assertThat(c.getMessage()).contains("merged/");
    }
}
