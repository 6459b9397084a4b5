package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import org.junit.jupiter.api.Test;

/** The trainer's evaluation-gate verdict and best-step choice, as the FineTuneJob's status shows them. */
class EvaluationGateStatusTest extends ControllerTestBase {
    private static final String DIGEST = "sha256:" + "cd".repeat(32);

    private FineTuneJobStatus finish(FineTuneJob ftj, String terminationMessage) {
        reconcile(ftj);
        Pod pod = kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        kubelet.terminated(pod, "Succeeded", 0, "Completed", terminationMessage, "2026-01-01T00:10:00Z");
        kubelet.complete(ftj);
        return reconcile(ftj);
    }

    @Test
    void missedGateFailsWithBothLossesAndRecordsTheMetricsButNoArtifact() {
        FineTuneJob ftj = create(TestJobs.lora("gate"));
        FineTuneJobStatus s = finish(ftj, "{\"outcome\":\"Failed\",\"reason\":\"EvaluationGateFailed\",\"message\":\"eval loss "
                + "4.6710 before training, 4.5000 after (3.7% lower): less than spec.evaluation.minRelativeImprovement=0.05 (5.0%); "
                + "the output is not published as servable: it is kept for inspection under s3://adapters/run-1/rejected/\","
                + "\"metrics\":{\"trainLoss\":4.4,\"evalLossBefore\":4.671,\"evalLossAfter\":4.5},\"steps\":4}");

        assertThat(s.phase).isEqualTo(Phase.Failed);
        Condition failed = Conditions.find(s.conditions, ConditionType.Failed).orElseThrow();
        assertThat(failed.getReason()).isEqualTo("EvaluationGateFailed");
        assertThat(failed.getMessage()).contains("4.6710 before training, 4.5000 after").contains("rejected/");
        assertThat(s.metrics.evalLossBefore).isEqualTo(4.671);
        assertThat(s.metrics.evalLossAfter).isEqualTo(4.5);
        assertThat(s.artifact).as("nothing published as servable").isNull();
        assertThat(events(ftj)).contains("Warning EvaluationGateFailed");
    }

    @Test
    void bestCheckpointStepIsInStatus() {
        FineTuneJob ftj = create(TestJobs.lora("best"));
        FineTuneJobStatus s = finish(ftj, "{\"outcome\":\"Succeeded\",\"artifact\":{\"uri\":\"s3://adapters/run-1\",\"digest\":\""
                + DIGEST + "\",\"sizeBytes\":10,\"format\":\"peft-lora\",\"servableBy\":[\"peft\",\"vllm\"]},"
                + "\"metrics\":{\"evalLossBefore\":4.6,\"evalLossAfter\":2.1,\"bestStep\":300},\"steps\":400}");

        assertThat(s.phase).isEqualTo(Phase.Succeeded);
        assertThat(s.metrics.bestStep).isEqualTo(300);
        assertThat(Conditions.find(s.conditions, ConditionType.Succeeded).orElseThrow().getMessage())
                .contains("the weights of step 300 (lowest eval loss)");
    }
}
