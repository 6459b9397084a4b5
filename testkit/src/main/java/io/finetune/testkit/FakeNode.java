package io.finetune.testkit;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A Node object whose kubelet is played by the test. It registers the Node with the given capacity, keeps it Ready
 * (heartbeats every 10 s, so the node-lifecycle controller never taints it), and hands every pod the scheduler binds to
 * it ({@code spec.nodeName}) to a {@link PodHandler}, once, on a thread of its own. When a bound pod is deleted it
 * behaves like a kubelet: runs the pod's {@link BoundPod#onDeletion} actions, then removes the pod (grace period 0).
 *
 * <pre>{@code
 * try (FakeNode gpu = FakeNode.builder("gpu-node-1").capacity("nvidia.com/gpu", "1")
 *         .handler(pod -> { pod.running(); pod.succeeded("{\"outcome\":\"Succeeded\"}"); })
 *         .start(kube.client())) { ... }
 * }</pre>
 */
public final class FakeNode implements AutoCloseable {
    /** Called once per pod bound to the node; may block (each pod has its own thread). */
    @FunctionalInterface
    public interface PodHandler {
        void onPod(BoundPod pod) throws Exception;
    }

    private static final Duration HEARTBEAT = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final String name;
    private final PodHandler handler;
    private final Map<String, BoundPod> pods = new ConcurrentHashMap<>();
    private final List<BoundPod> inOrder = new CopyOnWriteArrayList<>();
    private final Set<String> removing = ConcurrentHashMap.newKeySet();
    private final List<Throwable> handlerErrors = new CopyOnWriteArrayList<>();
    private final ExecutorService workers;
    private final ScheduledExecutorService heartbeat;
    private SharedIndexInformer<Pod> informer;

    private FakeNode(KubernetesClient client, String name, PodHandler handler) {
        this.client = client;
        this.name = name;
        this.handler = handler;
        this.workers = Executors.newCachedThreadPool(r -> daemon(r, "fake-node-" + name));
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "fake-node-heartbeat-" + name));
    }

    public static Builder builder(String nodeName) {
        return new Builder(nodeName);
    }

    /** Node options. Default capacity: cpu 8, memory 32Gi, pods 110, ephemeral-storage 100Gi. */
    public static final class Builder {
        private final String name;
        private final Map<String, String> capacity = new LinkedHashMap<>(Map.of(
                "cpu", "8", "memory", "32Gi", "pods", "110", "ephemeral-storage", "100Gi"));
        private final Map<String, String> labels = new LinkedHashMap<>();
        private PodHandler handler = pod -> { };

        private Builder(String name) {
            this.name = name;
        }

        /** Capacity (= allocatable) of a resource, e.g. {@code ("nvidia.com/gpu", "1")}; replaces a default. */
        public Builder capacity(String resource, String quantity) {
            capacity.put(resource, quantity);
            return this;
        }

        /** A node label (in addition to kubernetes.io/hostname, kubernetes.io/os and kubernetes.io/arch). */
        public Builder label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        /** What happens to bound pods; default: nothing (they stay Pending as if the image were being pulled). */
        public Builder handler(PodHandler podHandler) {
            this.handler = podHandler;
            return this;
        }

        /** Creates the Node (via an admin client), marks it Ready and starts watching its pods. */
        public FakeNode start(KubernetesClient adminClient) {
            FakeNode node = new FakeNode(adminClient, name, handler);
            try {
                node.register(capacity, labels);
                return node;
            } catch (RuntimeException e) {
                node.close();
                throw e;
            }
        }
    }

    public String name() {
        return name;
    }

    /** Pods bound to this node so far, in the order they were seen. */
    public List<BoundPod> pods() {
        return List.copyOf(inOrder);
    }

    /** Waits until at least {@code count} pods were bound to this node; returns them in binding order. */
    public List<BoundPod> awaitPods(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inOrder.size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("node " + name + ": " + inOrder.size() + " pod(s) bound after "
                        + timeout.toSeconds() + " s, expected " + count);
            }
            Thread.sleep(100);
        }
        return pods();
    }

    /** Exceptions thrown by the handler (each also failed its pod with reason "FakeNodeHandlerError"). */
    public List<Throwable> handlerErrors() {
        return List.copyOf(handlerErrors);
    }

    private void register(Map<String, String> capacity, Map<String, String> extraLabels) {
        Map<String, Quantity> q = new LinkedHashMap<>();
        capacity.forEach((k, v) -> q.put(k, new Quantity(v)));
        Map<String, String> labels = new LinkedHashMap<>(Map.of("kubernetes.io/hostname", name,
                "kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64"));
        labels.putAll(extraLabels);
        Node node = new NodeBuilder()
                .withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .withNewSpec().endSpec()
                .withNewStatus()
                .withCapacity(q).withAllocatable(q)
                .withConditions(conditions())
                .addNewAddress().withType("InternalIP").withAddress(PodStatuses.POD_IP).endAddress()
                .addNewAddress().withType("Hostname").withAddress(name).endAddress()
                .withNewNodeInfo().withKubeletVersion("v" + KubeBinaries.KUBE_VERSION).withOperatingSystem("linux")
                .withArchitecture("amd64").withContainerRuntimeVersion("fake://0").withOsImage("finetune FakeNode")
                .withKernelVersion("").withKubeProxyVersion("").withBootID(name).withMachineID(name)
                .withSystemUUID(name).endNodeInfo()
                .endStatus()
                .build();
        client.nodes().resource(node).create();
        // Status on create is kept for nodes, but write it through the status subresource like a kubelet does.
        onConflictRetry(this::beat);
        // The TaintNodesByCondition admission plugin adds not-ready:NoSchedule on create; a kubelet's first Ready
        // status makes the node-lifecycle controller remove it. Remove it now so scheduling does not wait for that.
        onConflictRetry(() -> client.nodes().withName(name).edit(n -> {
            if (n.getSpec().getTaints() != null) {
                n.getSpec().getTaints().removeIf(t -> t.getKey().startsWith("node.kubernetes.io/not-ready")
                        || t.getKey().startsWith("node.kubernetes.io/unreachable"));
            }
            return n;
        }));
        heartbeat.scheduleWithFixedDelay(this::beatQuietly, HEARTBEAT.toSeconds(), HEARTBEAT.toSeconds(),
                TimeUnit.SECONDS);
        informer = client.pods().inAnyNamespace().withField("spec.nodeName", name).inform(new Handler(), 0);
    }

    /** The node controllers write the new Node too (taints, podCIDR): a read-modify-write may meet a 409; read again. */
    private static void onConflictRetry(Runnable write) {
        for (int attempt = 1; ; attempt++) {
            try {
                write.run();
                return;
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    private static List<NodeCondition> conditions() {
        String now = PodStatuses.now();
        List<NodeCondition> c = new ArrayList<>();
        c.add(nodeCondition("Ready", "True", "KubeletReady", now));
        c.add(nodeCondition("MemoryPressure", "False", "KubeletHasSufficientMemory", now));
        c.add(nodeCondition("DiskPressure", "False", "KubeletHasNoDiskPressure", now));
        c.add(nodeCondition("PIDPressure", "False", "KubeletHasSufficientPID", now));
        return c;
    }

    private static NodeCondition nodeCondition(String type, String status, String reason, String now) {
        return new NodeConditionBuilder().withType(type).withStatus(status).withReason(reason)
                .withLastHeartbeatTime(now).withLastTransitionTime(now).build();
    }

    /** Merge patch without resourceVersion: never conflicts with the node-lifecycle controller's own writes. */
    private void beat() {
        String patch = Serialization.asJson(Map.of("status", Map.of("conditions", conditions())));
        client.nodes().withName(name).subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    }

    private void beatQuietly() {
        try {
            beat();
        } catch (RuntimeException e) {
            System.getLogger(FakeNode.class.getName()).log(System.Logger.Level.WARNING,
                    "node {0}: heartbeat failed: {1}", name, e.getMessage());
        }
    }

    private final class Handler implements ResourceEventHandler<Pod> {
        @Override
        public void onAdd(Pod pod) {
            seen(pod);
        }

        @Override
        public void onUpdate(Pod oldPod, Pod pod) {
            seen(pod);
        }

        @Override
        public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
            BoundPod b = pods.get(pod.getMetadata().getUid());
            if (b != null) {
                workers.execute(b::markDeleted);
            }
        }
    }

    private void seen(Pod pod) {
        String uid = pod.getMetadata().getUid();
        boolean terminating = pod.getMetadata().getDeletionTimestamp() != null;
        BoundPod bound = pods.get(uid);
        if (bound == null && !terminating && !isTerminal(pod)) {
            BoundPod fresh = new BoundPod(client, pod);
            if (pods.putIfAbsent(uid, fresh) == null) {
                inOrder.add(fresh);
                workers.execute(() -> runHandler(fresh));
            }
        } else if (terminating && removing.add(uid)) {
            workers.execute(() -> remove(bound, pod));
        }
    }

    private static boolean isTerminal(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    private void runHandler(BoundPod pod) {
        try {
            handler.onPod(pod);
        } catch (Throwable t) {
            handlerErrors.add(t);
            if (!pod.isDeleted()) {
                try {
                    pod.failed(128, "FakeNodeHandlerError", String.valueOf(t));
                } catch (RuntimeException ignored) {
                    // the pod may have gone meanwhile; the error is recorded above
                }
            }
        }
    }

    /** Like a kubelet after stopping the containers: confirm the deletion with grace period 0. */
    private void remove(BoundPod bound, Pod pod) {
        if (bound != null) {
            bound.markDeleted();
        }
        try {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                    .withGracePeriod(0).delete();
        } catch (RuntimeException e) {
            System.getLogger(FakeNode.class.getName()).log(System.Logger.Level.WARNING,
                    "node {0}: cannot remove pod {1}: {2}", name, pod.getMetadata().getName(), e.getMessage());
        }
    }

    /** Stops watching and heartbeating, interrupts running handlers and deletes the Node object. */
    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
        heartbeat.shutdownNow();
        workers.shutdownNow();
        try {
            client.nodes().withName(name).delete();
        } catch (RuntimeException e) {
            // the control plane may already be gone
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
