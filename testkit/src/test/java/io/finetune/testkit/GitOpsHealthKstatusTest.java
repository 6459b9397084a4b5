package io.finetune.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The kstatus port against the rules of cli-utils' generic.go, one case per rule and their order. */
class GitOpsHealthKstatusTest {
    private static Map<String, Object> object(Map<String, Object> metadata, Map<String, Object> status) {
        return Map.of("apiVersion", "finetune.io/v1alpha1", "kind", "FineTuneJob", "metadata", metadata, "status", status);
    }

    private static Map<String, Object> condition(String type, String status) {
        return Map.of("type", type, "status", status, "reason", "R", "message", "m");
    }

    @Test
    void aDeletionTimestampIsTerminatingBeforeAnyOtherRule() {
        // Even with an unobserved generation and Stalled=True: deletion is checked first.
        Map<String, Object> deleting = object(
                Map.of("name", "j", "generation", 3, "deletionTimestamp", "2026-12-07T10:00:00Z"),
                Map.of("observedGeneration", 2, "conditions", List.of(condition("Stalled", "True"))));
        assertThat(GitOpsHealth.kstatus(deleting)).isEqualTo("Terminating");
    }

    @Test
    void anUnobservedGenerationIsInProgress() {
        assertThat(GitOpsHealth.kstatus(object(Map.of("name", "j", "generation", 3), Map.of("observedGeneration", 2))))
                .isEqualTo("InProgress");
    }

    @Test
    void withoutAGenerationObservedGenerationIsNotCompared() {
        assertThat(GitOpsHealth.kstatus(object(Map.of("name", "j"), Map.of("observedGeneration", 2)))).isEqualTo("Current");
    }

    @Test
    void reconcilingAndStalledConditionsDecideNext() {
        Map<String, Object> meta = Map.of("name", "j", "generation", 2);
        assertThat(GitOpsHealth.kstatus(object(meta, Map.of("observedGeneration", 2,
                "conditions", List.of(condition("Reconciling", "True")))))).isEqualTo("InProgress");
        assertThat(GitOpsHealth.kstatus(object(meta, Map.of("observedGeneration", 2,
                "conditions", List.of(condition("Stalled", "True")))))).isEqualTo("Failed");
        assertThat(GitOpsHealth.kstatus(object(meta, Map.of("observedGeneration", 2,
                "conditions", List.of(condition("Stalled", "False"), condition("Ready", "True")))))).isEqualTo("Current");
    }

    @Test
    void anEmptyDeletionTimestampIsNotTerminating() {
        assertThat(GitOpsHealth.kstatus(object(Map.of("name", "j", "deletionTimestamp", ""), Map.of()))).isEqualTo("Current");
    }
}
