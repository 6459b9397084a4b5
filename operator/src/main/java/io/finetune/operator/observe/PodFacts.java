package io.finetune.operator.observe;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.finetune.api.TrainerResult;
import io.finetune.operator.naming.Names;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Reads what matters from training pods: scheduling, the trainer container's waiting/terminated state, start time. */
public final class PodFacts {
    /** Waiting reasons that mean the image will not arrive without a human fixing something. */
    public static final Set<String> IMAGE_FAILURES = Set.of("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull");

    private PodFacts() {
    }

    public static String phase(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
    }

    public static boolean started(Pod pod) {
        return Set.of("Running", "Succeeded", "Failed").contains(phase(pod));
    }

    public static boolean finished(Pod pod) {
        return Set.of("Succeeded", "Failed").contains(phase(pod));
    }

    public static Optional<PodCondition> scheduledCondition(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getConditions().stream().filter(c -> "PodScheduled".equals(c.getType())).findFirst();
    }

    public static Optional<ContainerStatus> trainer(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getContainerStatuses().stream().filter(c -> Names.CONTAINER.equals(c.getName())).findFirst();
    }

    /** The trainer container of the pod's spec. */
    public static Optional<Container> trainerContainer(Pod pod) {
        return pod.getSpec() == null || pod.getSpec().getContainers() == null ? Optional.empty()
                : pod.getSpec().getContainers().stream().filter(c -> Names.CONTAINER.equals(c.getName())).findFirst();
    }

    /** The trainer stopped on SIGTERM with a checkpoint (resumable; not a failure of the run). */
    public static boolean preempted(Pod pod) {
        return terminated(pod).map(t -> t.getExitCode() != null
                && t.getExitCode() == TrainerResult.PREEMPTED_EXIT_CODE).orElse(false);
    }

    public static Optional<ContainerStateWaiting> waiting(Pod pod) {
        return trainer(pod).map(ContainerStatus::getState).map(s -> s.getWaiting());
    }

    public static Optional<ContainerStateTerminated> terminated(Pod pod) {
        return trainer(pod).map(ContainerStatus::getState).map(s -> s.getTerminated());
    }

    /** When the trainer container started, else when the pod started. */
    public static Optional<String> startTime(Pod pod) {
        Optional<ContainerStatus> c = trainer(pod);
        Optional<String> t = c.map(ContainerStatus::getState).map(s -> s.getRunning() != null ? s.getRunning().getStartedAt()
                : s.getTerminated() != null ? s.getTerminated().getStartedAt() : null);
        return t.isPresent() ? t : Optional.ofNullable(pod.getStatus() == null ? null : pod.getStatus().getStartTime());
    }

    /** The most recently finished pod in {@code phase} (RFC 3339 strings sort chronologically). */
    public static Optional<Pod> lastFinished(List<Pod> pods, String phase) {
        return pods.stream().filter(p -> phase.equals(phase(p)))
                .max(Comparator.comparing(p -> terminated(p).map(ContainerStateTerminated::getFinishedAt).orElse("")));
    }
}
