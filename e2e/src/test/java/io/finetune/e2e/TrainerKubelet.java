package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.finetune.testkit.BoundPod;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.FakeNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * Plays the kubelet of the GPU node for trainer pods: for each bound pod it materialises the pod's volumes in a temp dir
 * (ConfigMap keys as files, emptyDirs as empty dirs), maps every path of the container's env onto them, adds a real token of
 * the pod's ServiceAccount (TokenRequest) the way a mounted token would be used, runs the container command with the real
 * trainer jar as a local process with only that environment, then writes the pod status: Running, then Succeeded/Failed
 * with the termination message the trainer wrote (like terminationMessagePath). A downwardAPI volume's files are kept
 * current while the trainer runs ({@link DownwardApiFiles}: a gang pod reads its rank annotations there). Every pod's IP
 * is 127.0.0.1 (see FakeNode), so the pods of a gang reach each other on loopback; the ports a trainer binds are the
 * metrics port (0 here: any free one) and, in rank 0's process only, the gang's rendezvous port. The Gloo binding the
 * image ships is the test JVM's {@value #GLOO_LIBRARY} (hack/build-gloo-jni.sh), passed through when set.
 */
final class TrainerKubelet implements FakeNode.PodHandler {
    /** The path of the trainer jar inside the image (operator's TrainingJob). */
    static final String IMAGE_JAR = "/opt/finetune/finetune-trainer.jar";
    /**
     * Pods of FineTuneJobs named {@code oom-*} are OOM-killed by the "kernel": Running for a moment, then terminated with
     * reason OOMKilled and exit code 137 (128 + SIGKILL), as a kubelet reports a container over its memory limit; the
     * termination message is the log tail, as FallbackToLogsOnError makes it for a container that wrote no
     * termination-log. No trainer runs: only the operator's reading of the pod is under test.
     */
    static final String OOM_PREFIX = "oom-";
    /** Pods of FineTuneJobs named {@code hold-*} run (no trainer) until they are deleted: a long run still in progress. */
    static final String HOLD_PREFIX = "hold-";
    /** The last lines an OOM-killed trainer logged (what the kubelet copies into the message under FallbackToLogsOnError). */
    static final String OOM_LOG_TAIL = "step 2/12  loss 2.4811  lr 0.000500  tok/s 812\nstep 3/12  loss 2.3017  lr 0.000750"
            + "  tok/s 809\n";
    /** How long an {@code oom-*} pod stays Pending once bound, as a kubelet creating the container (a window users see). */
    static final Duration CONTAINER_START = Duration.ofSeconds(1);
    /** How long an {@code oom-*} pod runs before it is killed (long enough for the operator to see it Running). */
    static final Duration OOM_AFTER = Duration.ofMillis(1500);
    /** The trainer's variable for its Gloo binding (trainer distributed/GlooLibrary), part of the image in a real pod. */
    static final String GLOO_LIBRARY = "FINETUNE_GLOO_LIBRARY";

    /**
     * A running trainer, for tests that interfere (kill it).
     *
     * @param downward the pod's downwardAPI files, or null when it mounts none
     */
    record Run(BoundPod pod, Process process, Path dir, String token, DownwardApiFiles downward) {
        /** The pod's annotations as the container last saw them in its downwardAPI file (empty without one). */
        Map<String, String> annotations() {
            return downward == null ? Map.of() : downward.annotations();
        }
    }

    private final ControlPlane kube;
    private final Path workDir;
    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    private final List<String> logs = new ArrayList<>();
    private final Map<String, Duration> ranFor = new ConcurrentHashMap<>();
    /** Called with each trainer output line; true = kill the trainer now (SIGKILL), like a preempted node. */
    private volatile BiPredicate<Run, String> killWhen = (r, line) -> false;

    TrainerKubelet(ControlPlane kube, Path workDir) {
        this.kube = kube;
        this.workDir = workDir;
    }

    void killWhen(BiPredicate<Run, String> condition) {
        this.killWhen = condition;
    }

    /** The trainer runs started so far, by pod name. */
    Map<String, Run> runs() {
        return runs;
    }

    @Override
    public void onPod(BoundPod bound) throws Exception {
        // The preflight pod of an oom-*/hold-* job runs the real trainer like any other: only training pods are played.
        boolean preflight = "preflight".equals(bound.pod().getMetadata().getLabels().get("finetune.io/component"));
        if (!preflight && bound.name().startsWith(OOM_PREFIX)) {
            Thread.sleep(CONTAINER_START.toMillis());
            bound.running();
            Thread.sleep(OOM_AFTER.toMillis());
            if (!bound.isDeleted()) {
                bound.failed(137, "OOMKilled", OOM_LOG_TAIL);
            }
            return;
        }
        if (!preflight && bound.name().startsWith(HOLD_PREFIX)) {
            bound.running();
            while (!bound.isDeleted()) {
                Thread.sleep(100);
            }
            return;
        }
        Pod pod = bound.pod();
        Container c = pod.getSpec().getContainers().get(0);
        Path dir = Files.createDirectories(workDir.resolve(bound.name()));
        List<DownwardApiFiles> downward = new ArrayList<>();
        Map<String, Path> mounts = materialiseVolumes(bound, c, dir, downward);
        Path termination = dir.resolve("termination-log");
        mounts.put(c.getTerminationMessagePath(), termination);

        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) {
            String v = value(pod.getMetadata().getNamespace(), e);
            if (v != null) {
                env.put(e.getName(), mapPath(v, mounts));
            }
        }
        // The DJL native library cache is image content in a real pod; unpacking 430 MB per pod would dwarf the test.
        env.put("DJL_CACHE_DIR", Path.of(System.getProperty("user.home"), ".djl.ai").toString());
        String token = kube.serviceAccountToken(pod.getMetadata().getNamespace(), pod.getSpec().getServiceAccountName(),
                Duration.ofMinutes(30));
        env.put("KUBERNETES_MASTER", kube.url());
        env.put("KUBERNETES_AUTH_TOKEN", token);
        env.put("KUBERNETES_CERTS_CA_FILE", kube.caCertFile().toString());
        env.put("FINETUNE_METRICS_PORT", "0");
        env.put("FINETUNE_PROGRESS_INTERVAL_SECONDS", "1");
        String gloo = System.getenv(GLOO_LIBRARY);
        if (gloo != null && !gloo.isBlank()) {
            env.put(GLOO_LIBRARY, gloo);
        }

        List<String> command = new ArrayList<>();
        for (String arg : c.getCommand()) {
            command.add(arg.equals("java") ? Repo.java().toString() : arg.equals(IMAGE_JAR) ? Repo.trainerJar().toString() : arg);
        }
        command.add(1, "-Xmx1g");   // the container memory limit would size the heap in a real pod
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
        pb.environment().clear();   // like `env -i`: nothing of the test JVM (admin kubeconfig!) leaks into the pod
        pb.environment().putAll(env);
        Process process = pb.start();
        Run run = new Run(bound, process, dir, token, downward.isEmpty() ? null : downward.get(0));
        runs.put(bound.name(), run);
        long grace = pod.getSpec().getTerminationGracePeriodSeconds() == null ? 30 : pod.getSpec().getTerminationGracePeriodSeconds();
        bound.onDeletion(() -> stopGracefully(bound, process, termination, grace));
        long started = System.nanoTime();
        bound.running();

        Path log = dir.resolve("trainer.log");
        boolean killed = false;
        try (var out = Files.newBufferedWriter(log); var in = process.inputReader(StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.newLine();
                out.flush();
                if (killWhen.test(run, line)) {
                    killed = true;
                    process.destroyForcibly();
                }
            }
        } catch (IOException e) {
            // The JDK closes a killed process's output pipe under its reader ("Stream closed"): that is the end of the
            // output, and the pod must still fail as a killed container does (137), not as a handler error.
            if (!killed && !bound.isDeleted()) {
                throw e;
            }
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        downward.forEach(DownwardApiFiles::close);
        int code = process.exitValue();
        ranFor.putIfAbsent(bound.name(), Duration.ofNanos(System.nanoTime() - started));
        synchronized (logs) {
            logs.add("---- " + bound.name() + " (exit " + code + ")\n" + Files.readString(log));
        }
        if (bound.isDeleted()) {
            return;
        }
        String message = Files.isRegularFile(termination) ? Files.readString(termination) : "";
        if (code == 0) {
            bound.succeeded(message.isEmpty() ? null : message);
        } else {
            // SIGKILL (137) leaves no message: what a preempted/killed container looks like.
            bound.failed(code, "Error", message.isEmpty() ? null : message);
        }
    }

    /**
     * A kubelet deleting a pod: SIGTERM to the container (ProcessHandle.destroy; Process.destroy would also close the
     * pipes the handler still reads), up to the pod's terminationGracePeriodSeconds for it to exit, then SIGKILL; the
     * container's final state (exit code, termination message) is written before the node confirms the deletion.
     */
    private void stopGracefully(BoundPod bound, Process process, Path termination, long graceSeconds) {
        try {
            if (process.isAlive()) {
                process.toHandle().destroy();
                if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(30, TimeUnit.SECONDS);
                }
            }
            int code = process.exitValue();
            String message = Files.isRegularFile(termination) ? Files.readString(termination) : "";
            if (code == 0) {
                bound.succeeded(message.isEmpty() ? null : message);
            } else {
                bound.failed(code, "Error", message.isEmpty() ? null : message);
            }
        } catch (IOException | RuntimeException e) {
            // the pod may be gone already (forced deletion): nothing left to report on
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long each pod's trainer ran on this node (from Running to its exit), by pod name. */
    Map<String, Duration> ranFor() {
        return ranFor;
    }

    /** Every trainer's output so far (printed when a test fails). */
    String logs() {
        synchronized (logs) {
            return String.join("\n", logs);
        }
    }

    private Map<String, Path> materialiseVolumes(BoundPod bound, Container c, Path dir, List<DownwardApiFiles> downward)
            throws IOException {
        Pod pod = bound.pod();
        Map<String, Path> mounts = new LinkedHashMap<>();
        for (VolumeMount m : c.getVolumeMounts()) {
            Volume v = pod.getSpec().getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
                    .orElseThrow(() -> new IllegalStateException("pod " + pod.getMetadata().getName() + " mounts unknown volume "
                            + m.getName()));
            Path local = Files.createDirectories(dir.resolve("volumes").resolve(m.getName()));
            if (v.getConfigMap() != null) {
                ConfigMap cm = kube.client().configMaps().inNamespace(pod.getMetadata().getNamespace())
                        .withName(v.getConfigMap().getName()).get();
                if (cm == null) {
                    throw new IllegalStateException("ConfigMap " + v.getConfigMap().getName() + " of pod "
                            + pod.getMetadata().getName() + " does not exist");
                }
                for (Map.Entry<String, String> e : cm.getData().entrySet()) {
                    Files.writeString(local.resolve(e.getKey()), e.getValue());
                }
            } else if (v.getDownwardAPI() != null) {
                downward.add(DownwardApiFiles.start(bound, v.getDownwardAPI(), local));
            } else if (v.getSecret() != null) {
                Secret secret = kube.client().secrets().inNamespace(pod.getMetadata().getNamespace())
                        .withName(v.getSecret().getSecretName()).get();
                if (secret != null && secret.getData() != null) {
                    for (Map.Entry<String, String> e : secret.getData().entrySet()) {
                        Files.write(local.resolve(e.getKey()), Base64.getDecoder().decode(e.getValue()));
                    }
                }
            }
            // emptyDir, projected token volumes: an empty directory (the token reaches the trainer through env instead).
            mounts.put(m.getMountPath(), local);
        }
        return mounts;
    }

    /** An env value with its in-container path prefix (longest mount path first) replaced by the local directory. */
    static String mapPath(String value, Map<String, Path> mounts) {
        return mounts.entrySet().stream().sorted(Comparator.comparingInt((Map.Entry<String, Path> e) -> -e.getKey().length()))
                .filter(e -> value.equals(e.getKey()) || value.startsWith(e.getKey() + "/"))
                .findFirst().map(e -> e.getValue() + value.substring(e.getKey().length())).orElse(value);
    }

    private String value(String namespace, EnvVar e) {
        if (e.getValueFrom() == null) {
            return e.getValue();
        }
        SecretKeySelector ref = e.getValueFrom().getSecretKeyRef();
        if (ref == null) {
            throw new IllegalStateException("env " + e.getName() + ": the fake node resolves only secretKeyRef");
        }
        Secret s = kube.client().secrets().inNamespace(namespace).withName(ref.getName()).get();
        String b64 = s == null || s.getData() == null ? null : s.getData().get(ref.getKey());
        if (b64 == null && !Boolean.TRUE.equals(ref.getOptional())) {
            throw new IllegalStateException("env " + e.getName() + ": secret " + ref.getName() + "/" + ref.getKey() + " missing");
        }
        return b64 == null ? null : new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
    }
}
