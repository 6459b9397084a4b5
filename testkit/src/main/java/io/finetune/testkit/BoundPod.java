package io.finetune.testkit;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A pod the scheduler bound to a {@link FakeNode}; the test, playing the kubelet, reports its containers' fate through
 * it. Status writes go to the pod's status subresource exactly as a kubelet's do, so the Job controller and the
 * operator react to them as in a cluster.
 */
public final class BoundPod {
    private final KubernetesClient client;
    private final Pod pod;
    private final List<Runnable> onDeletion = new CopyOnWriteArrayList<>();
    private volatile boolean deleted;

    BoundPod(KubernetesClient client, Pod pod) {
        this.client = client;
        this.pod = pod;
    }

    /** The pod as first seen bound to the node (its spec is what a kubelet would run). */
    public Pod pod() {
        return pod;
    }

    public String namespace() {
        return pod.getMetadata().getNamespace();
    }

    public String name() {
        return pod.getMetadata().getName();
    }

    /** The pod as stored now, or null when it no longer exists. */
    public Pod current() {
        return client.pods().inNamespace(namespace()).withName(name()).get();
    }

    /** True once the pod is being deleted (deletionTimestamp set or gone); a long-running handler should stop. */
    public boolean isDeleted() {
        return deleted;
    }

    /** Runs {@code action} when the pod starts being deleted, before the node removes it (e.g. kill a process). */
    public synchronized void onDeletion(Runnable action) {
        onDeletion.add(action);
        if (deleted) {
            action.run();
        }
    }

    /** Phase Running, all containers running and ready. */
    public void running() {
        writeStatus(PodStatuses::running);
    }

    /** Phase Succeeded: containers exited 0 with reason Completed and {@code terminationMessage} (may be null). */
    public void succeeded(String terminationMessage) {
        writeStatus(p -> PodStatuses.terminated(p, 0, "Completed", terminationMessage));
    }

    /**
     * Phase Failed: containers terminated with {@code exitCode} (non-zero), {@code reason} (e.g. "Error", "OOMKilled")
     * and {@code terminationMessage} (may be null).
     */
    public void failed(int exitCode, String reason, String terminationMessage) {
        if (exitCode == 0) {
            throw new IllegalArgumentException("a failed container has a non-zero exit code");
        }
        writeStatus(p -> PodStatuses.terminated(p, exitCode, reason, terminationMessage));
    }

    synchronized void markDeleted() {
        if (!deleted) {
            deleted = true;
            onDeletion.forEach(Runnable::run);
        }
    }

    /** Read-modify-write of the status subresource, retried on conflicts (the scheduler/controllers write too). */
    private void writeStatus(Function<Pod, PodStatus> status) {
        for (int attempt = 1; ; attempt++) {
            Pod cur = current();
            if (cur == null) {
                throw new ControlPlaneException("pod " + namespace() + "/" + name() + " no longer exists");
            }
            cur.setStatus(status.apply(cur));
            try {
                client.pods().inNamespace(namespace()).resource(cur).updateStatus();
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    @Override
    public String toString() {
        return "BoundPod[" + namespace() + "/" + name() + "]";
    }
}
