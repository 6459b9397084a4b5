package io.finetune.testkit;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Kubernetes 1.20 control plane on 127.0.0.1 for tests: etcd + kube-apiserver, and with
 * {@link Builder#withControllers()} also kube-controller-manager (Jobs create Pods, ownerReference garbage collection,
 * service-account tokens, node lifecycle) and kube-scheduler. There is no kubelet: use {@link FakeNode} to play one.
 *
 * <p>Authentication is by bearer token: an admin token (group {@code system:masters}) and real service-account tokens
 * from the TokenRequest API ({@link #clientFor}); authorization is RBAC only, so Roles are enforced exactly as in a cluster.
 * Kubernetes 1.20 has no CEL: {@code x-kubernetes-validations} in a CRD is dropped; server-side apply works.
 *
 * <p>Binaries come from {@link KubeBinaries}; when they are missing, {@link Builder#start()} skips the calling JUnit test
 * (or fails it when {@code FINETUNE_REQUIRE_CONTROL_PLANE=true}). Process logs are files in {@link #workDir()}; a start
 * failure throws {@link ControlPlaneException} with the tail of the failing process's log. {@link #close()} stops all
 * processes (a watchdog also stops them if the JVM dies) and deletes the work directory unless the start failed or
 * {@code FINETUNE_KUBE_KEEP=true}.
 *
 * <pre>{@code
 * try (ControlPlane kube = ControlPlane.builder().withControllers().withCrds(crdFile).start()) {
 *     kube.client().namespaces().resource(ns).create();
 *     try (KubernetesClient trainer = kube.clientFor("ns", "job-sa")) { ... }
 * }
 * }</pre>
 */
public final class ControlPlane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControlPlane.class.getName());
    /** Field manager used by {@link #apply}. */
    public static final String FIELD_MANAGER = "finetune-testkit";

    private final KubeBinaries bin;
    private final Path dir;
    private final List<ManagedProcess> processes = new ArrayList<>();
    private final List<KubernetesClient> clients = new CopyOnWriteArrayList<>();
    private final String adminToken = Pki.randomToken();
    private Pki pki;
    private String url;
    private KubernetesClient admin;
    private boolean keepDir;
    private List<String> apiServerCommand;
    private Duration startupTimeout;

    private ControlPlane(KubeBinaries bin, Path dir) {
        this.bin = bin;
        this.dir = dir;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a control plane; {@link #start()} boots it. */
    public static final class Builder {
        private boolean controllers;
        private final List<Path> crds = new ArrayList<>();
        private Duration startupTimeout = Duration.ofSeconds(180);

        private Builder() {
        }

        /** Also run kube-controller-manager and kube-scheduler (needed for Jobs -> Pods, scheduling, GC). */
        public Builder withControllers() {
            this.controllers = true;
            return this;
        }

        /**
         * CRD files to apply (and wait for Established) before the controllers start. The garbage collector discovers
         * new resource types only every 30 s, so a CRD installed up front makes GC of objects owned by custom
         * resources immediate.
         */
        public Builder withCrds(Path... crdFiles) {
            crds.addAll(List.of(crdFiles));
            return this;
        }

        /** Limit for each process to become ready (default 180 s: the CI machine may be busy). */
        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        public ControlPlane start() {
            KubeBinaries bin = KubeBinaries.requireOrSkip();
            Path dir;
            try {
                dir = Files.createTempDirectory("finetune-kube-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temp dir for the control plane", e);
            }
            ControlPlane plane = new ControlPlane(bin, dir);
            try {
                plane.boot(this);
                return plane;
            } catch (RuntimeException | Error e) {
                plane.keepDir = true;
                plane.close();
                throw e;
            }
        }
    }

    private void boot(Builder opts) {
        long t0 = System.nanoTime();
        pki = Pki.create(dir);
        Path tokens = dir.resolve("tokens.csv");
        write(tokens, adminToken + ",admin,admin-uid,\"system:masters\"\n");
        int etcdPort = Components.freePort();
        ManagedProcess etcd = launch("etcd",
                Components.etcd(bin, dir.resolve("etcd-data"), etcdPort, Components.freePort()));
        awaitHttpOk(etcd, "http://127.0.0.1:" + etcdPort + "/health", false, opts.startupTimeout);

        int port = Components.freePort();
        url = "https://127.0.0.1:" + port;
        startupTimeout = opts.startupTimeout;
        apiServerCommand = Components.apiServer(bin, pki, tokens, dir.resolve("certs"), etcdPort, port);
        ManagedProcess api = launch("kube-apiserver", apiServerCommand);
        awaitHttpOk(api, url + "/readyz", true, opts.startupTimeout);
        admin = newClient(adminToken, "default");
        if (!opts.crds.isEmpty()) {
            apply(opts.crds.toArray(Path[]::new));
        }
        if (opts.controllers) {
            Path kubeconfig = writeKubeconfig(dir.resolve("admin.kubeconfig"));
            int cmPort = Components.freePort();
            ManagedProcess cm = launch("kube-controller-manager",
                    Components.controllerManager(bin, pki, kubeconfig, cmPort));
            int schedPort = Components.freePort();
            ManagedProcess sched = launch("kube-scheduler", Components.scheduler(bin, kubeconfig, schedPort));
            awaitHttpOk(cm, "http://127.0.0.1:" + cmPort + "/healthz", false, opts.startupTimeout);
            awaitHttpOk(sched, "http://127.0.0.1:" + schedPort + "/healthz", false, opts.startupTimeout);
            // Pods can only be created once their ServiceAccount has a token (1.20 ServiceAccount admission).
            awaitDefaultServiceAccountToken(cm, opts.startupTimeout);
        }
        LOG.log(System.Logger.Level.INFO, "control plane {0} up in {1} ms (controllers: {2}); logs in {3}",
                url, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), opts.controllers, dir);
    }

    /** Base URL of the API server, {@code https://127.0.0.1:<port>}. */
    public String url() {
        return url;
    }

    /** The API server's self-signed serving certificate (PEM): the CA a client must trust. */
    public Path caCertFile() {
        return pki.servingCert();
    }

    /** Bearer token of the admin user (group system:masters). */
    public String adminToken() {
        return adminToken;
    }

    /** Temp directory with certificates, etcd data and the process logs ({@code <process>.log}). */
    public Path workDir() {
        return dir;
    }

    /** Client authenticated as admin (system:masters), default namespace "default". Closed by {@link #close()}. */
    public KubernetesClient client() {
        return admin;
    }

    /** Writes a kubeconfig for the admin user to {@code file} (parent dirs created) and returns it. */
    public Path writeKubeconfig(Path file) {
        return Kubeconfig.write(file, url, caCertFile(), adminToken, "default");
    }

    /** Writes a kubeconfig authenticated as ServiceAccount {@code namespace/serviceAccount} (token valid 1 h). */
    public Path writeKubeconfig(Path file, String namespace, String serviceAccount) {
        return Kubeconfig.write(file, url, caCertFile(),
                serviceAccountToken(namespace, serviceAccount, Duration.ofHours(1)), namespace);
    }

    /**
     * A real, signed token for an existing ServiceAccount, made by the TokenRequest API (what a kubelet mounts into a
     * pod). {@code ttl} is at least 10 minutes (API server minimum).
     */
    public String serviceAccountToken(String namespace, String serviceAccount, Duration ttl) {
        TokenRequest req = new TokenRequestBuilder().withNewSpec()
                .withExpirationSeconds(Math.max(600, ttl.toSeconds()))
                .endSpec().build();
        TokenRequest answer = admin.serviceAccounts().inNamespace(namespace).withName(serviceAccount).tokenRequest(req);
        if (answer == null || answer.getStatus() == null || answer.getStatus().getToken() == null) {
            throw new ControlPlaneException("TokenRequest for serviceaccount " + namespace + "/" + serviceAccount
                    + " returned no token");
        }
        return answer.getStatus().getToken();
    }

    /**
     * A client authenticated as ServiceAccount {@code namespace/serviceAccount} (which must exist), default namespace
     * {@code namespace}; RBAC decides what it may do. Closed by {@link #close()} (closing it earlier is fine).
     */
    public KubernetesClient clientFor(String namespace, String serviceAccount) {
        return newClient(serviceAccountToken(namespace, serviceAccount, Duration.ofHours(1)), namespace);
    }

    /**
     * Applies every object in the YAML files (server-side apply, field manager {@link #FIELD_MANAGER}, forced; objects
     * with fields unknown to 1.20 are created or updated instead), in order; namespaced objects without a namespace go to "default". Waits until each CRD is Established.
     */
    public List<HasMetadata> apply(Path... yamlFiles) {
        List<HasMetadata> applied = new ArrayList<>();
        for (Path file : yamlFiles) {
            List<HasMetadata> items;
            try (InputStream in = Files.newInputStream(file)) {
                items = admin.load(in).items();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            for (HasMetadata item : items) {
                try {
                    applied.add(applyOne(item));
                } catch (RuntimeException e) {
                    throw new ControlPlaneException("cannot apply " + item.getKind() + " "
                            + item.getMetadata().getName() + " from " + file + ": " + e.getMessage(), e);
                }
                if (item instanceof CustomResourceDefinition crd) {
                    admin.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                            // status.conditions is null until the apiextensions controller first writes it
                            .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                                    && c.getStatus().getConditions().stream().anyMatch(
                                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
                                    60, TimeUnit.SECONDS);
                }
            }
        }
        return applied;
    }

    /**
     * Server-side apply; when 1.20's apply schema rejects fields it does not know (a CRD carrying
     * {@code x-kubernetes-validations}: "field not declared in schema"), create-or-update instead, which drops them as
     * a 1.20 cluster does for kubectl create/replace.
     */
    private HasMetadata applyOne(HasMetadata item) {
        try {
            return admin.resource(item).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
        } catch (KubernetesClientException e) {
            if (e.getMessage() == null || !e.getMessage().contains("field not declared in schema")) {
                throw e;
            }
            return admin.resource(item).createOr(NonDeletingOperation::update);
        }
    }

    /**
     * Stops kube-apiserver (SIGTERM), leaves it down for {@code down}, and starts it again on the same port, etcd and
     * credentials, as a control-plane upgrade or crash would; returns once it is ready. Clients reconnect on their own.
     */
    public void restartApiServer(Duration down) {
        int i = processes.stream().map(ManagedProcess::name).toList().indexOf("kube-apiserver");
        processes.get(i).close();
        sleep(down.toMillis());
        ManagedProcess api = ManagedProcess.start("kube-apiserver", apiServerCommand,
                dir.resolve("kube-apiserver-" + System.currentTimeMillis() + ".log"));
        processes.set(i, api);
        awaitHttpOk(api, url + "/readyz", true, startupTimeout);
    }

    /** Stops all processes (newest first) and clients; deletes {@link #workDir()} unless kept (see class doc). */
    @Override
    public void close() {
        clients.forEach(KubernetesClient::close);
        for (int i = processes.size() - 1; i >= 0; i--) {
            processes.get(i).close();
        }
        if (keepDir || Boolean.parseBoolean(System.getenv("FINETUNE_KUBE_KEEP"))) {
            LOG.log(System.Logger.Level.INFO, "control plane files kept in {0}", dir);
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1}", dir, e.getMessage());
        }
    }

    /** OS processes of the plane (watchdogs and the servers), for tests checking that close() leaves none. */
    List<ProcessHandle> processHandles() {
        return processes.stream().flatMap(p -> p.handles().stream()).toList();
    }

    private KubernetesClient newClient(String token, String namespace) {
        Config cfg = new ConfigBuilder(Config.empty())
                .withMasterUrl(url)
                .withCaCertFile(caCertFile().toString())
                .withOauthToken(token)
                .withNamespace(namespace)
                .withRequestTimeout(30_000)
                .build();
        KubernetesClient c = new KubernetesClientBuilder().withConfig(cfg).build();
        clients.add(c);
        return c;
    }

    private ManagedProcess launch(String name, List<String> command) {
        ManagedProcess p = ManagedProcess.start(name, command, dir.resolve(name + ".log"));
        processes.add(p);
        return p;
    }

    /** Polls {@code url} until it answers 200, failing fast (with the log tail) when the process exits. */
    private void awaitHttpOk(ManagedProcess proc, String target, boolean tls, Duration timeout) {
        HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
        if (tls) {
            hb.sslContext(pki.sslContext());
        }
        HttpClient http = hb.build();
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(target)).timeout(Duration.ofSeconds(5));
        if (tls) {
            rb.header("Authorization", "Bearer " + adminToken);
        }
        HttpRequest req = rb.build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!proc.isAlive()) {
                throw proc.failure("exited before " + target + " was ready");
            }
            try {
                HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + r.statusCode() + ": " + r.body().lines().filter(l -> l.contains("failed"))
                        .reduce((a, b) -> a + "; " + b).orElse(r.body().strip());
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ControlPlaneException("interrupted while waiting for " + proc.name(), e);
            }
            sleep(250);
        }
        throw proc.failure("not ready after " + timeout.toSeconds() + " s at " + target + " (last: " + last + ")");
    }

    private void awaitDefaultServiceAccountToken(ManagedProcess cm, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!cm.isAlive()) {
                throw cm.failure("exited while creating the default service account");
            }
            ServiceAccount sa = admin.serviceAccounts().inNamespace("default").withName("default").get();
            if (sa != null && sa.getSecrets() != null && !sa.getSecrets().isEmpty()) {
                return;
            }
            sleep(250);
        }
        throw cm.failure("no token for serviceaccount default/default after " + timeout.toSeconds() + " s");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlPlaneException("interrupted", e);
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
