package io.finetune.operator.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.finetune.api.PreflightResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The preflight's verdict from its Job and pod as the informers show them. The real control plane showed the Job Failed
 * (backoffLimit 0) while the pod cache still had the pod Running: the verdict was read as PreflightError instead of
 * waiting for the pod's termination message (TargetModulesNotFound), and a Failed phase is final.
 */
class PreflightVerdictTest {
    private static final Job FAILED_JOB = new JobBuilder().withNewMetadata().withName("j-preflight").endMetadata()
            .withNewStatus().addNewCondition().withType("Failed").withStatus("True").withReason("BackoffLimitExceeded")
            .endCondition().endStatus().build();

    private static Pod pod(String phase) {
        return new PodBuilder().withNewMetadata().withName("j-check-abc").endMetadata().withNewStatus().withPhase(phase)
                .endStatus().build();
    }

    @Test
    void aFailedJobWhosePodStillShowsRunningWaitsForTheVerdict() {
        PreflightVerdict v = PreflightVerdict.read(FAILED_JOB, List.of(pod("Running")));
        assertThat(v.passed()).isFalse();
        assertThat(v.failure()).as(v.message()).isNull();
    }

    @Test
    void aFailedJobWithNoPodInViewIsAPreflightError() {
        PreflightVerdict v = PreflightVerdict.read(FAILED_JOB, List.of());
        assertThat(v.failure()).isEqualTo(PreflightResult.Reason.PreflightError);
        assertThat(v.message()).contains("BackoffLimitExceeded");
    }
}
