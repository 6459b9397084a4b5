package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.finetune.api.TrainerContract.Gang;
import org.junit.jupiter.api.Test;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import static org.assertj.core.api.Assertions.assertThat;

/** The gang's decisions from its pods alone: when ranks are assigned, when an attempt is ended, and what never happens. */
class GangPlanTest {
    private static Pod pod(String name, String phase, String ip, Integer attempt, Integer rank, boolean deleting) {
        Map<String, String> ann = new HashMap<>();
        if (attempt != null) {
            ann.put(Gang.ATTEMPT, attempt.toString());
            ann.put(Gang.RANK, rank.toString());
            ann.put(Gang.MASTER_ADDR, "10.0.0.1");
        }
        return new PodBuilder().withNewMetadata().withName(name).withAnnotations(ann)
                .withDeletionTimestamp(deleting ? "2026-01-01T00:00:00Z" : null).endMetadata()
                .withNewStatus().withPhase(phase).withPodIP(ip).endStatus().build();
    }

    @Test
    void assignsOnlyWhenEveryPodRunsWithAnIp() {
        assertThat(GangPlan.of(2, 0, List.of(pod("j-b", "Running", "10.0.0.2", null, null, false))).isEmpty()).isTrue();
        assertThat(GangPlan.of(2, 0, List.of(pod("j-b", "Running", "10.0.0.2", null, null, false),
                pod("j-a", "Pending", null, null, null, false))).isEmpty()).isTrue();
        assertThat(GangPlan.of(2, 0, List.of(pod("j-b", "Running", "10.0.0.2", null, null, false),
                pod("j-a", "Running", null, null, null, false))).isEmpty()).as("no IP yet").isTrue();

        GangPlan plan = GangPlan.of(2, 0, List.of(pod("j-b", "Running", "10.0.0.2", null, null, false),
                pod("j-a", "Running", "10.0.0.1", null, null, false)));
        assertThat(plan.attempt()).isEqualTo(1);
        assertThat(plan.annotate().keySet()).containsExactly("j-a", "j-b");
        assertThat(plan.annotate().get("j-a")).containsEntry(Gang.RANK, "0").containsEntry(Gang.MASTER_ADDR, "10.0.0.1");
        assertThat(plan.annotate().get("j-b")).containsEntry(Gang.RANK, "1").containsEntry(Gang.MASTER_ADDR, "10.0.0.1");
    }

    @Test
    void aRunningAttemptIsLeftAloneAndAFinishedRankIsNoFailure() {
        assertThat(GangPlan.of(2, 0, List.of(pod("j-a", "Running", "10.0.0.1", 1, 0, false),
                pod("j-b", "Running", "10.0.0.2", 1, 1, false))).isEmpty()).isTrue();
        assertThat(GangPlan.of(2, 0, List.of(pod("j-a", "Running", "10.0.0.1", 1, 0, false),
                pod("j-b", "Succeeded", "10.0.0.2", 1, 1, false))).isEmpty()).isTrue();
    }

    @Test
    void aFailedOrDeletedRankEndsItsWholeAttempt() {
        GangPlan failed = GangPlan.of(3, 0, List.of(pod("j-a", "Running", "10.0.0.1", 1, 0, false),
                pod("j-b", "Failed", "10.0.0.2", 1, 1, false), pod("j-c", "Running", "10.0.0.3", 1, 2, false)));
        assertThat(failed.delete()).containsExactly("j-a", "j-c");
        assertThat(failed.cause()).contains("rank 1").contains("j-b").contains("failed");

        GangPlan deleted = GangPlan.of(2, 0, List.of(pod("j-a", "Running", "10.0.0.1", 1, 0, false),
                pod("j-b", "Running", "10.0.0.2", 1, 1, true)));
        assertThat(deleted.delete()).containsExactly("j-a");
        assertThat(deleted.cause()).contains("was deleted");
    }

    @Test
    void theNextAttemptWaitsUntilTheOldPodsAreGoneAndIgnoresItsFailedPods() {
        Pod oldFailed = pod("j-b", "Failed", "10.0.0.2", 1, 1, false);
        Pod oldTerminating = pod("j-a", "Running", "10.0.0.1", 1, 0, true);
        Pod c = pod("j-c", "Running", "10.0.0.3", null, null, false);
        Pod d = pod("j-d", "Running", "10.0.0.4", null, null, false);
        assertThat(GangPlan.of(2, 0, List.of(oldFailed, oldTerminating, c, d)).isEmpty())
                .as("rank 0 of attempt 1 may still be writing its checkpoint").isTrue();

        GangPlan next = GangPlan.of(2, 0, List.of(oldFailed, c, d));
        assertThat(next.delete()).isEmpty();
        assertThat(next.attempt()).isEqualTo(2);
        assertThat(next.annotate().get("j-c")).containsEntry(Gang.RANK, "0").containsEntry(Gang.MASTER_ADDR, "10.0.0.3")
                .containsEntry(Gang.ATTEMPT, "2");
    }

    /**
     * On a real API server an evicted pod is deleted: once both pods of attempt 1 are gone, only the number recorded on
     * the Job says that the next attempt is 2 (numbered from the pods alone it would be 1 again, and the old attempt's
     * pods could not be told from the new one's).
     */
    @Test
    void theNumberingGoesOnFromTheJobOnceTheOldPodsAreGone() {
        List<Pod> fresh = List.of(pod("j-c", "Running", "10.0.0.3", null, null, false), pod("j-d", "Running", "10.0.0.4", null, null, false));
        assertThat(GangPlan.of(2, 1, fresh).attempt()).isEqualTo(2);
        assertThat(GangPlan.of(2, 1, fresh).annotate().get("j-d")).containsEntry(Gang.ATTEMPT, "2").containsEntry(Gang.RANK, "1");
        assertThat(GangPlan.of(2, 0, fresh).attempt()).as("nothing recorded: the first attempt").isEqualTo(1);
        assertThat(GangPlan.of(2, 3, List.of(pod("j-a", "Running", "10.0.0.1", 1, 0, false), pod("j-b", "Running", "10.0.0.2", 1, 1, false))).attempt())
                .as("an older number on the pods than on the Job: neither broken nor new, nothing happens").isEqualTo(0);
    }

    @Test
    void moreWaitingPodsThanNodesAssignNothing() {
        assertThat(GangPlan.of(2, 0, List.of(pod("j-a", "Running", "1.1.1.1", null, null, false),
                pod("j-b", "Running", "1.1.1.2", null, null, false), pod("j-c", "Running", "1.1.1.3", null, null, false))).isEmpty()).isTrue();
    }
}
