package io.finetune.trainer.pod;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.Progress;
import org.junit.jupiter.api.Test;

/** The merge patch document itself; {@link ProgressReporterKubernetesTest} checks what the server does with it. */
class KubernetesStatusPatcherTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void patchBodyHoldsOnlyStatusProgressAndClearsValuesThatAreNotNumbers() throws Exception {
        Progress p = new TrainingProgress(7, 10, 0.7, Double.NaN, 1e-4, 12.5, null).toProgress();
        p.learningRate = Double.POSITIVE_INFINITY;   // set directly, bypassing TrainingProgress's own check

        JsonNode body = JSON.readTree(KubernetesStatusPatcher.body(p));

        assertThat(body.fieldNames()).toIterable().containsExactly("status");
        assertThat(body.get("status").fieldNames()).toIterable().containsExactly("progress");
        JsonNode progress = body.get("status").get("progress");
        assertThat(progress.get("step").asLong()).isEqualTo(7);
        assertThat(progress.get("summary").asText()).isEqualTo("7/10");
        assertThat(progress.get("loss").isNull()).as("null deletes a stale loss in a merge patch").isTrue();
        assertThat(progress.get("learningRate").isNull()).isTrue();
        assertThat(progress.get("eta").isNull()).isTrue();
    }
}
