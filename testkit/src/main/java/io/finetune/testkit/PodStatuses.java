package io.finetune.testkit;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** Pod statuses shaped like the ones a kubelet writes (phase, conditions, one status per container). */
final class PodStatuses {
    static final String POD_IP = "127.0.0.1";

    private PodStatuses() {
    }

    static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** All containers started and ready. */
    static PodStatus running(Pod pod) {
        String now = now();
        List<ContainerStatus> cs = new ArrayList<>();
        for (Container c : pod.getSpec().getContainers()) {
            cs.add(base(c, true)
                    .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(now).endRunning().build())
                    .build());
        }
        return withCommon(pod, "Running", true, cs, startTime(pod, now));
    }

    /**
     * Every container terminated with {@code exitCode}/{@code reason}; {@code message} is the termination message
     * (what the container wrote to its terminationMessagePath). Phase Succeeded when exitCode is 0, else Failed.
     */
    static PodStatus terminated(Pod pod, int exitCode, String reason, String message) {
        String now = now();
        String started = startTime(pod, now);
        List<ContainerStatus> cs = new ArrayList<>();
        for (Container c : pod.getSpec().getContainers()) {
            cs.add(base(c, false)
                    .withState(new ContainerStateBuilder().withNewTerminated()
                            .withExitCode(exitCode)
                            .withReason(reason)
                            .withMessage(message)
                            .withStartedAt(started)
                            .withFinishedAt(now)
                            .withContainerID("fake://" + pod.getMetadata().getUid() + "/" + c.getName())
                            .endTerminated().build())
                    .build());
        }
        return withCommon(pod, exitCode == 0 ? "Succeeded" : "Failed", false, cs, started);
    }

    private static ContainerStatusBuilder base(Container c, boolean ready) {
        return new ContainerStatusBuilder()
                .withName(c.getName())
                .withImage(c.getImage())
                .withImageID("fake://" + c.getImage())
                .withReady(ready)
                .withStarted(ready)
                .withRestartCount(0);
    }

    private static String startTime(Pod pod, String fallback) {
        PodStatus s = pod.getStatus();
        return s != null && s.getStartTime() != null ? s.getStartTime() : fallback;
    }

    private static PodStatus withCommon(Pod pod, String phase, boolean ready, List<ContainerStatus> containers,
            String startTime) {
        PodStatus old = pod.getStatus() == null ? new PodStatus() : pod.getStatus();
        List<PodCondition> conditions = new ArrayList<>();
        String now = now();
        conditions.add(condition("Initialized", true, now));
        conditions.add(condition("Ready", ready, now));
        conditions.add(condition("ContainersReady", ready, now));
        conditions.add(condition("PodScheduled", true, now));
        PodStatus s = new PodStatus();
        s.setPhase(phase);
        s.setConditions(conditions);
        s.setContainerStatuses(containers);
        s.setHostIP(POD_IP);
        s.setPodIP(POD_IP);
        s.setStartTime(startTime);
        s.setQosClass(old.getQosClass());
        return s;
    }

    private static PodCondition condition(String type, boolean status, String now) {
        return new PodConditionBuilder().withType(type).withStatus(status ? "True" : "False")
                .withLastTransitionTime(now).build();
    }
}
