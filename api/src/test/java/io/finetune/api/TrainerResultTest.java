package io.finetune.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.MemoryUsage;
import io.finetune.api.v1alpha1.Metrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The termination-message contract between trainer pod and operator. */
class TrainerResultTest {
    @Test
    void successRoundTrips() {
        Artifact a = new Artifact();
        a.uri = "s3://b/out";
        a.digest = "sha256:" + "a".repeat(64);
        a.sizeBytes = 10L;
        a.format = "peft-lora";
        a.servableBy = List.of("peft", "vllm");
        Metrics m = new Metrics();
        m.evalLossAfter = 1.5;
        MemoryUsage mem = new MemoryUsage();
        mem.trainableParameters = 100L;

        String json = TrainerResult.succeeded(a, m, mem, 40).toJson();
        TrainerResult back = TrainerResult.parse(json).orElseThrow();

        assertThat(json).startsWith("{\"outcome\":\"Succeeded\"").doesNotContain("\"reason\"");
        assertThat(back.outcome()).isEqualTo(TrainerResult.Outcome.Succeeded);
        assertThat(back.artifact().digest).isEqualTo(a.digest);
        assertThat(back.artifact().servableBy).containsExactly("peft", "vllm");
        assertThat(back.metrics().evalLossAfter).isEqualTo(1.5);
        assertThat(back.memory().trainableParameters).isEqualTo(100L);
        assertThat(back.steps()).isEqualTo(40L);
    }

    @Test
    void failureIsOneLineAndFitsTheKubeletLimit() {
        String json = TrainerResult.failed(TrainerResult.Reason.InvalidDataset, "train.jsonl:3: bad\n" + "x".repeat(10_000)).toJson();
        TrainerResult back = TrainerResult.parse(json).orElseThrow();

        assertThat(json.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(TrainerResult.MAX_BYTES);
        assertThat(back.reason()).isEqualTo(TrainerResult.Reason.InvalidDataset);
        assertThat(back.message()).startsWith("train.jsonl:3: bad x").doesNotContain("\n");
    }

    @Test
    void unknownReasonReadsAsTrainerErrorAndGarbageAsNothing() {
        assertThat(TrainerResult.parse("{\"outcome\":\"Failed\",\"reason\":\"Cosmic\",\"message\":\"m\",\"extra\":1}").orElseThrow().reason())
                .isEqualTo(TrainerResult.Reason.TrainerError);
        assertThat(TrainerResult.parse("Exception in thread main")).isEmpty();
        assertThat(TrainerResult.parse("{\"outcome\":")).isEmpty();
        assertThat(TrainerResult.parse("{}")).isEmpty();
        assertThat(TrainerResult.parse(null)).isEmpty();
    }
}
