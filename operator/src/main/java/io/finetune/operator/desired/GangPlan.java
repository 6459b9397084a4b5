package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.Pod;
import io.finetune.api.TrainerContract.Gang;
import io.finetune.operator.observe.GangFacts;
import io.finetune.operator.observe.PodFacts;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a gang (spec.resources.nodes above 1) needs this pass, decided from its pods alone (pure). The gang is one Job with
 * parallelism = completions = nodes; a 1.20 API server has no Indexed Jobs, so its pods have random names and no index.
 * The operator therefore numbers the gang itself, one attempt at a time:
 *
 * <ul>
 *   <li><b>Assign</b>: when no pod of an earlier attempt is still alive and exactly {@code nodes} live pods without a rank
 *       are Running with a pod IP, they become attempt n + 1: sorted by name, pod i gets rank i, and every pod gets the
 *       IP of rank 0 ({@link Gang}). All ranks start together or none does (the trainer waits, bounded, for its rank).</li>
 *   <li><b>Restart</b>: when a pod of the latest attempt failed or is being deleted (evicted, preempted, deleted by a
 *       user), its still-live peers are deleted: the Job controller replaces all of them, the next attempt is assigned
 *       once the old pods are gone (so rank 0's last checkpoint is complete), and it resumes from that checkpoint. One pod
 *       is never retried alone: a new rank cannot join a running Gloo group.</li>
 * </ul>
 *
 * @param delete    names of the pods to delete (the rest of a broken attempt)
 * @param annotate  pod name -> annotations to merge (a new attempt's ranks), in rank order
 * @param attempt   the attempt number assigned or restarted; 0 when nothing happens
 * @param cause     why the attempt is restarted (the pod and what happened to it), null otherwise
 */
public record GangPlan(List<String> delete, Map<String, Map<String, String>> annotate, int attempt, String cause) {
    static final GangPlan NOTHING = new GangPlan(List.of(), Map.of(), 0, null);

    public boolean isEmpty() {
        return delete.isEmpty() && annotate.isEmpty();
    }

    /**
     * The plan for a gang of {@code nodes} pods given the Job's current pods (training pods only) and the latest attempt
     * recorded on the Job ({@code recorded}; the pods of an ended attempt may be gone, the numbering goes on).
     */
    public static GangPlan of(int nodes, int recorded, List<Pod> pods) {
        int seen = pods.stream().map(GangFacts::attempt).filter(OptionalInt::isPresent).mapToInt(OptionalInt::getAsInt).max().orElse(0);
        int latest = Math.max(recorded, seen);
        Optional<Pod> broken = pods.stream().filter(p -> GangFacts.attempt(p).orElse(-1) == latest && latest > 0)
                .filter(p -> "Failed".equals(PodFacts.phase(p)) || deleting(p) && !"Succeeded".equals(PodFacts.phase(p)))
                .findFirst();
        if (broken.isPresent()) {
            List<String> delete = pods.stream().filter(p -> GangFacts.attempt(p).isPresent() && live(p))
                    .map(p -> p.getMetadata().getName()).sorted().toList();
            Pod b = broken.get();
            String what = "Failed".equals(PodFacts.phase(b)) ? "failed" + PodFacts.terminated(b)
                    .map(t -> " (" + t.getReason() + ", exit code " + t.getExitCode() + ")").orElse("") : "was deleted";
            String cause = "rank " + GangFacts.rank(b) + " pod " + b.getMetadata().getName() + " of gang attempt " + latest + " " + what;
            if (!delete.isEmpty()) {
                return new GangPlan(delete, Map.of(), latest, cause);
            }
            // the broken attempt's pods are all ending or ended (failed pods stay listed until the Job ends): assign the next
        }
        boolean ranksAlive = pods.stream().anyMatch(p -> GangFacts.attempt(p).isPresent() && !PodFacts.finished(p));
        List<Pod> waiting = pods.stream().filter(p -> GangFacts.attempt(p).isEmpty() && live(p)).sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList();
        if (ranksAlive || waiting.size() != nodes || !waiting.stream().allMatch(GangPlan::started)) {
            return NOTHING;
        }
        String master = waiting.get(0).getStatus().getPodIP();
        Map<String, Map<String, String>> annotate = new LinkedHashMap<>();
        for (int i = 0; i < waiting.size(); i++) {
            annotate.put(waiting.get(i).getMetadata().getName(), Map.of(Gang.RANK, Integer.toString(i), Gang.MASTER_ADDR, master,
                    Gang.ATTEMPT, Integer.toString(latest + 1)));
        }
        return new GangPlan(List.of(), annotate, latest + 1, null);
    }

    private static boolean deleting(Pod pod) {
        return pod.getMetadata().getDeletionTimestamp() != null;
    }

    private static boolean live(Pod pod) {
        return !deleting(pod) && !PodFacts.finished(pod);
    }

    private static boolean started(Pod pod) {
        return "Running".equals(PodFacts.phase(pod)) && pod.getStatus().getPodIP() != null && !pod.getStatus().getPodIP().isBlank();
    }
}
