package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.testkit.ControlPlane;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged operator ({@code java -jar quarkus-run.jar}) as a separate process, installed the way a cluster admin would:
 * its namespace, its ServiceAccount, and the ClusterRole + binding QOSDK generated from its @RBACRule annotations; it
 * authenticates with a kubeconfig holding a TokenRequest token of that ServiceAccount (never admin).
 */
final class OperatorProcess implements AutoCloseable {
    static final String NAMESPACE = "finetune-system";
    static final String SERVICE_ACCOUNT = "finetune-operator";

    private final Process process;
    private final Path log;

    private OperatorProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static OperatorProcess start(ControlPlane kube, Path workDir) throws IOException, InterruptedException {
        return start(kube, workDir, "operator", Map.of());
    }

    /**
     * One replica named {@code name} (log {@code <name>.log}, kubeconfig {@code <name>.kubeconfig} in {@code workDir}); an
     * entry of {@code env} overrides the default environment, a null value removes the variable.
     */
    static OperatorProcess start(ControlPlane kube, Path workDir, String name, Map<String, String> env)
            throws IOException, InterruptedException {
        install(kube);
        Path kubeconfig = kube.writeKubeconfig(workDir.resolve(name + ".kubeconfig"), NAMESPACE, SERVICE_ACCOUNT);
        Path log = workDir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(Repo.java().toString(), "-Xmx256m", "-jar", Repo.operatorJar().toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).directory(workDir.toFile());
        pb.environment().clear();
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("KUBERNETES_NAMESPACE", NAMESPACE);
        pb.environment().put("QUARKUS_OPERATOR_SDK_CONTROLLERS_FINETUNEJOB_NAMESPACES", "JOSDK_ALL_NAMESPACES");
        pb.environment().put("FINETUNE_OPERATOR_LEADER_ELECTION_LEASE_NAMESPACE", NAMESPACE);
        pb.environment().put("QUARKUS_HTTP_PORT", "0");
        pb.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        OperatorProcess op = new OperatorProcess(pb.start(), log);
        op.awaitStarted(Duration.ofSeconds(90));
        return op;
    }

    /** The operator's namespace, ServiceAccount and RBAC, as a cluster admin installs them (idempotent). */
    static void install(ControlPlane kube) throws IOException {
        KubernetesClient admin = kube.client();
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
                .serverSideApply();
        admin.serviceAccounts().inNamespace(NAMESPACE).resource(new ServiceAccountBuilder().withNewMetadata()
                .withName(SERVICE_ACCOUNT).endMetadata().build()).serverSideApply();
        installRbac(admin);
    }

    /**
     * Applies the generated ClusterRole(s) and ClusterRoleBinding(s). The generated binding names the ServiceAccount without
     * a namespace (the Deployment's namespace is only known at install time), so it is filled in here, as an installer must.
     */
    private static void installRbac(KubernetesClient admin) throws IOException {
        List<HasMetadata> items;
        try (InputStream in = Files.newInputStream(Repo.operatorManifests())) {
            items = admin.load(in).items();
        }
        boolean any = false;
        for (HasMetadata item : items) {
            if (item instanceof ClusterRoleBinding b) {
                for (Subject s : b.getSubjects()) {
                    if ("ServiceAccount".equals(s.getKind()) && s.getNamespace() == null) {
                        s.setNamespace(NAMESPACE);
                    }
                }
            }
            if (item instanceof ClusterRole || item instanceof ClusterRoleBinding) {
                admin.resource(item).fieldManager(ControlPlane.FIELD_MANAGER).forceConflicts().serverSideApply();
                any = true;
            }
        }
        if (!any) {
            throw new IllegalStateException(Repo.operatorManifests() + " holds no ClusterRole/ClusterRoleBinding");
        }
    }

    /** Quarkus prints "started in" once the reconcilers are registered and informers started. */
    private void awaitStarted(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            if (text.contains(" started in ")) {
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("operator exited with " + process.exitValue() + ":\n" + text);
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("operator did not start within " + timeout.toSeconds() + " s:\n" + Files.readString(log));
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    int exitValue() {
        return process.exitValue();
    }

    /** SIGKILL, as the OOM killer or a node failure would; returns once the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, as a rollout or {@code kubectl delete pod} would; returns the time the process took to exit, or null. */
    Duration terminate(Duration limit) throws InterruptedException {
        long t0 = System.nanoTime();
        process.destroy();
        return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS) ? Duration.ofNanos(System.nanoTime() - t0) : null;
    }

    /** The identity this replica uses in the Lease, from its log line "Leader election on: ..., identity X". */
    String leaseIdentity() {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Leader election on: .*, identity (\\S+)").matcher(log());
        return m.find() ? m.group(1) : null;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
