package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.finetune.testkit.BoundPod;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.FakeNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Plays the kubelet for the operator pod the chart's Deployment creates: runs the container's command with the packaged
 * operator in place of the image's jar, with exactly the container's env (values, fieldRefs resolved from the pod,
 * secret/configMap refs read from the API) and nothing of the test JVM, authenticated by a kubeconfig holding a real
 * TokenRequest token of the pod's ServiceAccount (what an in-cluster client reads from the mounted token; the kubeconfig's
 * namespace stands for the mounted namespace file). The pod is reported Running and Ready only after the container's own
 * startupProbe and readinessProbe answer 200, as a kubelet would. A container whose probes do not pass within their
 * failureThreshold is stopped and its pod reported Failed (a kubelet would restart it or keep it unready; either way the
 * Deployment never becomes available, which is what a test sees), as is a container that exits (the ReplicaSet then
 * makes a new pod, where a kubelet would restart the container in place: CrashLoopBackOff).
 *
 * <p>Container ↔ host: the pod's network namespace is emulated by giving Quarkus a free local port for its default 8080
 * (QUARKUS_HTTP_PORT, bound to 127.0.0.1), and probes reach container port 8080 through that port; a probe naming any
 * other port fails. The memory limit is passed as -XX:MaxRAM (what the JVM's container support reads from the cgroup).
 */
final class OperatorKubelet implements FakeNode.PodHandler {
    /** Where operator/src/main/docker/Dockerfile.jvm puts the fast-jar. */
    static final String IMAGE_JAR = "/deployments/quarkus-run.jar";
    /** The image's ENTRYPOINT, run when the container sets no command. */
    static final List<String> IMAGE_ENTRYPOINT = List.of("java", "-jar", IMAGE_JAR);
    /** The port Quarkus listens on unless configured otherwise. */
    static final int QUARKUS_DEFAULT_PORT = 8080;

    /** One started operator container. */
    record Run(BoundPod pod, Process process, Path dir, Path kubeconfig, String token, int hostPort, Map<String, String> env) {
        Path log() {
            return dir.resolve("operator.log");
        }
    }

    private final ControlPlane kube;
    private final Path workDir;
    /** In start order: a crash-looping operator leaves one pod per attempt (see onPod). */
    private final Map<String, Run> runs = Collections.synchronizedMap(new LinkedHashMap<>());
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    OperatorKubelet(ControlPlane kube, Path workDir) {
        this.kube = kube;
        this.workDir = workDir;
    }

    /** Operator containers started so far, by pod name, oldest first. */
    Map<String, Run> runs() {
        synchronized (runs) {
            return new LinkedHashMap<>(runs);
        }
    }

    @Override
    public void onPod(BoundPod bound) throws Exception {
        Pod pod = bound.pod();
        if (pod.getSpec().getContainers().size() != 1) {
            throw new IllegalStateException("operator pod " + bound.name() + " has " + pod.getSpec().getContainers().size()
                    + " containers; this kubelet runs exactly one");
        }
        Container c = pod.getSpec().getContainers().get(0);
        Path dir = Files.createDirectories(workDir.resolve(bound.name()));
        Map<String, Path> mounts = emptyDirs(pod, c, dir);

        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) {
            String v = PodEnv.value(kube.client(), pod, e);
            if (v != null) {
                env.put(e.getName(), v);
            }
        }
        String namespace = pod.getMetadata().getNamespace();
        String serviceAccount = pod.getSpec().getServiceAccountName();
        Path kubeconfig = kube.writeKubeconfig(dir.resolve("kubeconfig"), namespace, serviceAccount);
        env.put("KUBECONFIG", kubeconfig.toString());
        int hostPort = freePort();
        env.putIfAbsent("QUARKUS_HTTP_PORT", Integer.toString(hostPort));
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");

        List<String> command = new ArrayList<>();
        List<String> entrypoint = c.getCommand() == null || c.getCommand().isEmpty() ? IMAGE_ENTRYPOINT : c.getCommand();
        for (String arg : concat(entrypoint, c.getArgs())) {
            command.add(arg.equals("java") ? Repo.java().toString() : arg.equals(IMAGE_JAR) ? Repo.operatorJar().toString() : arg);
        }
        if (!command.isEmpty() && command.get(0).equals(Repo.java().toString())) {
            List<String> jvm = new ArrayList<>();
            Quantity memory = c.getResources() == null || c.getResources().getLimits() == null ? null
                    : c.getResources().getLimits().get("memory");
            if (memory != null) {
                jvm.add("-XX:MaxRAM=" + memory.getNumericalAmount().longValue());
            }
            if (mounts.containsKey("/tmp")) {
                jvm.add("-Djava.io.tmpdir=" + mounts.get("/tmp"));
            }
            command.addAll(1, jvm);
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("operator.log").toFile()).directory(dir.toFile());
        pb.environment().clear();   // like `env -i`: nothing of the test JVM (admin credentials!) reaches the container
        pb.environment().putAll(env);
        Process process = pb.start();
        Run run = new Run(bound, process, dir, kubeconfig, tokenOf(kubeconfig), hostPort, Map.copyOf(env));
        runs.put(bound.name(), run);
        bound.onDeletion(() -> stop(process, pod));

        Map<Integer, Integer> portMap = Map.of(QUARKUS_DEFAULT_PORT, hostPort);
        if (!awaitProbe(run, c, c.getStartupProbe(), portMap) || !awaitProbe(run, c, c.getReadinessProbe(), portMap)) {
            if (!bound.isDeleted()) {
                stop(process, pod);
                bound.failed(process.isAlive() ? 137 : process.exitValue(), "ProbeFailed",
                        "startup/readiness probe failed; log tail:\n" + tail(run.log()));
            }
            return;
        }
        bound.running();
        int code = process.waitFor();
        if (!bound.isDeleted()) {
            bound.failed(code == 0 ? 1 : code, "Error", tail(run.log()));
        }
    }

    /**
     * Polls one httpGet probe every periodSeconds until it answers 2xx/3xx, up to failureThreshold failures (Kubernetes'
     * defaults 10 s / 3 when unset). No probe: passes at once. False when the container exits or the threshold is reached.
     */
    private boolean awaitProbe(Run run, Container c, Probe probe, Map<Integer, Integer> portMap) throws InterruptedException {
        if (probe == null) {
            return true;
        }
        HTTPGetAction get = probe.getHttpGet();
        if (get == null) {
            throw new IllegalStateException("operator container " + c.getName() + ": only httpGet probes are emulated");
        }
        int containerPort = containerPort(c, get.getPort());
        Integer hostPort = portMap.get(containerPort);
        int period = probe.getPeriodSeconds() == null ? 10 : probe.getPeriodSeconds();
        int threshold = probe.getFailureThreshold() == null ? 3 : probe.getFailureThreshold();
        for (int failures = 0; failures < threshold; failures++) {
            if (!run.process().isAlive() || run.pod().isDeleted()) {
                return false;
            }
            if (hostPort != null && answers(hostPort, get.getPath())) {
                return true;
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(period));
        }
        return false;
    }

    private boolean answers(int port, String path) throws InterruptedException {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() >= 200 && r.statusCode() < 400;
        } catch (IOException e) {
            return false;
        }
    }

    private static int containerPort(Container c, IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        for (ContainerPort p : c.getPorts()) {
            if (port.getStrVal().equals(p.getName())) {
                return p.getContainerPort();
            }
        }
        throw new IllegalStateException("probe of container " + c.getName() + " names unknown port " + port.getStrVal());
    }

    /** Each emptyDir mount as a local directory (the chart's /tmp under a read-only root filesystem). */
    private static Map<String, Path> emptyDirs(Pod pod, Container c, Path dir) throws IOException {
        Map<String, Path> mounts = new LinkedHashMap<>();
        for (VolumeMount m : c.getVolumeMounts()) {
            Volume v = pod.getSpec().getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
                    .orElseThrow(() -> new IllegalStateException("pod " + pod.getMetadata().getName()
                            + " mounts unknown volume " + m.getName()));
            if (v.getEmptyDir() != null) {
                mounts.put(m.getMountPath(), Files.createDirectories(dir.resolve("volumes").resolve(m.getName())));
            }
        }
        return mounts;
    }

    /** A kubelet stopping a container: SIGTERM, then SIGKILL after the grace period (30 s default, 10 s here). */
    private static void stop(Process process, Pod pod) {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The bearer token the kubeconfig carries: exactly the credential the container authenticates with. */
    private static String tokenOf(Path kubeconfig) throws IOException {
        return Files.readAllLines(kubeconfig).stream().map(String::strip).filter(l -> l.startsWith("token:"))
                .map(l -> l.substring("token:".length()).strip()).findFirst()
                .orElseThrow(() -> new IllegalStateException(kubeconfig + " holds no token"));
    }

    static String full(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    static String tail(Path log) {
        try {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a == null ? List.of() : a);
        all.addAll(b == null ? List.of() : b);
        return all;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
