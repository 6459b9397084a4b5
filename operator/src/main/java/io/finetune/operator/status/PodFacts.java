package io.finetune.operator.status;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.finetune.operator.Names;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Reads what matters from training pods: scheduling, the trainer container's waiting/terminated state, start time. */
final class PodFacts {
    /** Waiting reasons that mean the image will not arrive without a human fixing something. */
    static final Set<String> IMAGE_FAILURES = Set.of("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull");

    private PodFacts() {
    }

    static String phase(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
    }

    static boolean started(Pod pod) {
        return Set.of("Running", "Succeeded", "Failed").contains(phase(pod));
    }

    static boolean finished(Pod pod) {
        return Set.of("Succeeded", "Failed").contains(phase(pod));
    }

    static Optional<PodCondition> scheduledCondition(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getConditions().stream().filter(c -> "PodScheduled".equals(c.getType())).findFirst();
    }

    static Optional<ContainerStatus> trainer(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getContainerStatuses().stream().filter(c -> Names.CONTAINER.equals(c.getName())).findFirst();
    }

    /** The trainer container of the pod's spec. */
    static Optional<io.fabric8.kubernetes.api.model.Container> trainerContainer(Pod pod) {
        return pod.getSpec() == null || pod.getSpec().getContainers() == null ? Optional.empty()
                : pod.getSpec().getContainers().stream().filter(c -> Names.CONTAINER.equals(c.getName())).findFirst();
    }

    /** The trainer stopped on SIGTERM with a checkpoint (resumable; not a failure of the run). */
    static boolean preempted(Pod pod) {
        return terminated(pod).map(t -> t.getExitCode() != null
                && t.getExitCode() == io.finetune.api.TrainerResult.PREEMPTED_EXIT_CODE).orElse(false);
    }

    static Optional<ContainerStateWaiting> waiting(Pod pod) {
        return trainer(pod).map(ContainerStatus::getState).map(s -> s.getWaiting());
    }

    static Optional<ContainerStateTerminated> terminated(Pod pod) {
        return trainer(pod).map(ContainerStatus::getState).map(s -> s.getTerminated());
    }

    /** When the trainer container started, else when the pod started. */
    static Optional<String> startTime(Pod pod) {
        Optional<ContainerStatus> c = trainer(pod);
        Optional<String> t = c.map(ContainerStatus::getState).map(s -> s.getRunning() != null ? s.getRunning().getStartedAt()
                : s.getTerminated() != null ? s.getTerminated().getStartedAt() : null);
        return t.isPresent() ? t : Optional.ofNullable(pod.getStatus() == null ? null : pod.getStatus().getStartTime());
    }

    /** The most recently finished pod in {@code phase} (RFC 3339 strings sort chronologically). */
    static Optional<Pod> lastFinished(List<Pod> pods, String phase) {
        return pods.stream().filter(p -> phase.equals(phase(p)))
                .max(Comparator.comparing(p -> terminated(p).map(ContainerStateTerminated::getFinishedAt).orElse("")));
    }
}
