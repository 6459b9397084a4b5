package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.BoundPod;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.FakeNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user gets from {@code helm install finetune charts/finetune-operator -n finetune-system --create-namespace}, on
 * a real control plane (kube-apiserver, controller-manager, scheduler 1.20): every object of the chart accepted, the
 * Deployment's pod run from the packaged operator jar with the pod's env and ServiceAccount token until its own probes
 * pass, a LoRA FineTuneJob in another namespace trained to Succeeded under nothing but the chart's RBAC, and
 * {@code helm uninstall} leaving no operator behind. Then the same release again with {@code watchNamespaces: [ml]}:
 * Roles only in ml, nothing cluster-wide, ml's job trains and another namespace's job is left alone. The steps depend on
 * each other and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartInstallTest {
    static final String RELEASE = "finetune";
    static final String NAMESPACE = "finetune-system";
    static final String NS = "ml";
    /** A namespace with users' jobs that a watchNamespaces-limited operator must not touch. */
    static final String OTHER_NS = "other-team";
    static final String KUBE_VERSION = "v1.20.2";
    /**
     * The only value set on top of values.yaml: a trainer image no default anywhere carries, so a trainer pod running it
     * proves the chart's value reaches the operator. Everything else (leader election on, jobDefaults, probes, RBAC for
     * all namespaces) is the chart's default. The fake node runs the trainer jar whatever the image is called.
     */
    static final String TRAINER_IMAGE = "registry.example.com/ml/finetune-trainer:chart-e2e";
    static final String VALUES = "trainer:\n  image: " + TRAINER_IMAGE + "\n";

    @TempDir
    static Path work;
    static ControlPlane kube;
    static ChartRelease chart;
    /** The same release installed again after the uninstall, with watchNamespaces: [ml]. */
    static ChartRelease namespaced;
    static OperatorKubelet operators;
    static TrainerKubelet trainers;
    static FakeNode node;

    @BeforeAll
    static void startClusterAndRenderChart() throws Exception {
        kube = ControlPlane.builder().withControllers().start();   // no CRD: the chart brings it; skips without binaries
        Repo.trainerJar();
        Repo.operatorJar();
        TinyLoraJob.initModelAndData(work);
        kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .create();
        chart = ChartRelease.render(kube.client(), RELEASE, NAMESPACE, KUBE_VERSION, VALUES);
        operators = new OperatorKubelet(kube, Files.createDirectories(work.resolve("operator-pods")));
        trainers = new TrainerKubelet(kube, Files.createDirectories(work.resolve("trainer-pods")));
        Map<String, String> operatorSelector = chart.deployment().getSpec().getSelector().getMatchLabels();
        // One node for both: a pod matching the Deployment's selector is the operator, every other pod a trainer.
        // 64Gi memory: the chart's jobDefaults give each trainer 32Gi, the operator asks 256Mi.
        node = FakeNode.builder("node-1").capacity("nvidia.com/gpu", "1").capacity("memory", "64Gi")
                .handler(pod -> (matches(pod, operatorSelector) ? operators : trainers).onPod(pod))
                .start(kube.client());
    }

    static boolean matches(BoundPod pod, Map<String, String> selector) {
        Map<String, String> labels = pod.pod().getMetadata().getLabels();
        return labels != null && labels.entrySet().containsAll(selector.entrySet());
    }

    @AfterAll
    static void stopEverything() {
        if (operators != null) {
            List<OperatorKubelet.Run> runs = List.copyOf(operators.runs().values());
            runs.forEach(r -> r.process().destroyForcibly());
            if (!runs.isEmpty()) {
                OperatorKubelet.Run last = runs.get(runs.size() - 1);
                System.out.println("== " + runs.size() + " operator container(s); log of the last, pod " + last.pod().name()
                        + ":\n" + OperatorKubelet.full(last.log()));
            }
        }
        if (trainers != null) {
            System.out.println("== trainer output:\n" + trainers.logs());
        }
        if (node != null) {
            node.close();
        }
        if (kube != null) {
            kube.close();
        }
    }

    @Test
    @Order(1)
    void everyObjectOfTheChartIsAcceptedAndTheOperatorPodBecomesReady() throws Exception {
        assertThat(chart.crds()).extracting(c -> c.getMetadata().getName()).containsExactly("finetunejobs.finetune.io");
        assertThat(chart.objects()).extracting(HasMetadata::getKind).contains("ServiceAccount", "ClusterRole",
                "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment");

        installAndAwaitReady(chart);

        assertThat(operators.runs()).hasSize(1);
        // docs/install.md's readiness check names this Deployment (kubectl -n finetune-system rollout status deployment/...).
        Matcher doc = Pattern.compile("rollout status deployment/(\\S+)")
                .matcher(Files.readString(Repo.root().resolve("docs/install.md")));
        assertThat(doc.find()).as("docs/install.md shows `kubectl rollout status deployment/<name>`").isTrue();
        assertThat(chart.deployment().getMetadata().getName()).as("the Deployment docs/install.md waits for")
                .isEqualTo(doc.group(1));
        // The chart's env reached the process (values rendered into the Deployment; the kubelet adds only the kubeconfig
        // and the emulated port).
        assertThat(operatorRun().env()).containsEntry("FINETUNE_OPERATOR_TRAINER_IMAGE", TRAINER_IMAGE)
                .containsEntry("FINETUNE_OPERATOR_DEFAULT_CPU", "4").containsEntry("FINETUNE_OPERATOR_DEFAULT_MEMORY", "32Gi")
                .doesNotContainKeys("QUARKUS_PROFILE", "QUARKUS_OPERATOR_SDK_NAMESPACES");   // leader election on, all namespaces
    }

    /** `helm install` then `kubectl rollout status`: every object exists and the operator pod is Running and Ready. */
    static void installAndAwaitReady(ChartRelease release) throws Exception {
        release.install(kube.client());
        for (HasMetadata item : release.objects()) {
            assertThat(kube.client().resource(item).get()).as(ChartRelease.describe(item) + " exists").isNotNull();
        }
        Deployment d = release.deployment();
        awaitTrue(Duration.ofSeconds(150), () -> {
            Deployment now = kube.client().apps().deployments().inNamespace(NAMESPACE).withName(d.getMetadata().getName()).get();
            Integer available = now.getStatus() == null ? null : now.getStatus().getAvailableReplicas();
            return available != null && available == 1;
        }, () -> "Deployment " + d.getMetadata().getName() + " available (kubectl rollout status); node errors "
                + node.handlerErrors() + "; " + clusterState(NAMESPACE) + "\noperator pods " + operatorLogs());
        Pod pod = operatorPod();
        assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
        assertThat(pod.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Ready");
            assertThat(c.getStatus()).isEqualTo("True");
        });
        assertThat(operatorRun().pod().name()).isEqualTo(pod.getMetadata().getName());
        assertThat(operatorRun().process().isAlive()).isTrue();
    }

    @Test
    @Order(2)
    void theOperatorAuthenticatesAsTheChartsServiceAccountNotAsAdmin() {
        String sa = chart.one(ServiceAccount.class).getMetadata().getName();
        assertThat(operatorPod().getSpec().getServiceAccountName()).isEqualTo(sa);
        OperatorKubelet.Run run = operatorRun();
        TokenReview review = kube.client().resource(new TokenReviewBuilder().withNewSpec().withToken(run.token()).endSpec()
                .build()).create();
        assertThat(review.getStatus().getAuthenticated()).isTrue();
        UserInfo user = review.getStatus().getUser();
        assertThat(user.getUsername()).isEqualTo("system:serviceaccount:" + NAMESPACE + ":" + sa);
        assertThat(user.getGroups()).doesNotContain("system:masters");
        // Nothing else in its environment could authenticate it as someone else.
        assertThat(run.env().values()).noneMatch(v -> v.contains(kube.adminToken()));
        assertThat(run.env()).doesNotContainKeys("KUBERNETES_AUTH_TOKEN", "KUBERNETES_MASTER");
    }

    @Test
    @Order(3)
    void theChartsRbacGrantsTheLoopAndWithholdsSecretsAndJobOwnership() {
        CanI op = new CanI(kube.client(), NAMESPACE, chart.one(ServiceAccount.class).getMetadata().getName());
        // What the reconcile loop needs, in any namespace (watchNamespaces: [] = one ClusterRole).
        op.allowed("create", "batch", "jobs", "", NS);
        op.allowed("watch", "", "pods", "", "");
        op.allowed("patch", "finetune.io", "finetunejobs", "status", NS);
        op.allowed("create", "rbac.authorization.k8s.io", "rolebindings", "", NS);
        op.allowed("update", "coordination.k8s.io", "leases", "", NAMESPACE);
        // What the chart means to withhold: Secrets anywhere (credentials reach trainers only as secretKeyRef env),
        // creating or deleting users' FineTuneJobs, deleting Jobs (garbage collection does), leases outside its namespace,
        // and cluster-wide RBAC (no escalation path).
        for (String verb : List.of("get", "list", "watch")) {
            op.denied(verb, "", "secrets", "", "");
            op.denied(verb, "", "secrets", "", NS);
            op.denied(verb, "", "secrets", "", NAMESPACE);
        }
        op.denied("create", "finetune.io", "finetunejobs", "", NS);
        op.denied("delete", "finetune.io", "finetunejobs", "", NS);
        // Nor what the code does not use (the chart grants exactly FineTuneJobController's @RBACRule): the FineTuneJob
        // itself is never written, its status only patched, events only created.
        op.denied("update", "finetune.io", "finetunejobs", "", NS);
        op.denied("patch", "finetune.io", "finetunejobs", "", NS);
        op.denied("update", "finetune.io", "finetunejobs", "status", NS);
        op.denied("patch", "", "events", "", NS);
        op.denied("delete", "batch", "jobs", "", NS);
        op.denied("create", "", "pods", "", NS);
        op.denied("update", "coordination.k8s.io", "leases", "", NS);
        op.denied("create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "");
        op.denied("escalate", "rbac.authorization.k8s.io", "roles", "", NS);
    }

    @Test
    @Order(4)
    void aLoraJobTrainsToSucceededUnderTheChartsRbacWithTheChartsDefaults() throws Exception {
        trainToSucceeded(NS, "chart-lora");
    }

    /**
     * Submits the tiny LoRA job and expects Succeeded with a verifiable artifact, the chart's trainer.image and jobDefaults
     * on the trainer pod, the operator's events on the job, and no request of the operator refused by RBAC.
     */
    static void trainToSucceeded(String namespace, String name) throws Exception {
        try (StatusRecorder rec = new StatusRecorder(kube.client(), namespace, name)) {
            TinyLoraJob.submit(kube.client(), work, namespace, name);
            FineTuneJob done;
            try {
                done = rec.await(j -> StatusRecorder.inPhase(j, Phase.Succeeded) || StatusRecorder.inPhase(j, Phase.Failed),
                        Duration.ofSeconds(150), name + " to finish");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + clusterState(namespace) + "\noperator: " + operatorLogs(), e);
            }
            System.out.println("Observed status transitions of FineTuneJob " + namespace + "/" + name + ":\n" + rec.transcript());
            FineTuneJobStatus s = done.getStatus();
            assertThat(s.phase).as(rec.transcript() + trainers.logs()).isEqualTo(Phase.Succeeded);
            assertThat(rec.phases()).as(rec.transcript()).endsWith(Phase.Running, Phase.Succeeded).doesNotContain(Phase.Failed);
            assertThat(s.progress.step).isEqualTo(TinyLoraJob.STEPS);
            Path out = TinyLoraJob.output(work, name);
            assertThat(s.artifact.uri).isEqualTo("file://" + out);
            assertThat(s.artifact.digest).isEqualTo("sha256:" + TinyLoraJob.sha256(Files.readAllBytes(out.resolve("manifest.json"))));
        }
        // The trainer pod got the chart's trainer.image and jobDefaults (cpu 4, memory 32Gi as requests = limits).
        List<TrainerKubelet.Run> runs = trainers.runs().values().stream().filter(r -> r.pod().name().startsWith(name + "-"))
                .toList();
        assertThat(runs).hasSize(1);
        Container trainer = runs.get(0).pod().pod().getSpec().getContainers().get(0);
        assertThat(trainer.getImage()).isEqualTo(TRAINER_IMAGE);
        assertThat(trainer.getResources().getRequests()).containsEntry("cpu", new Quantity("4"))
                .containsEntry("memory", new Quantity("32Gi"));
        assertThat(trainer.getResources().getLimits()).containsEntry("memory", new Quantity("32Gi"));
        // No request of the operator was refused on the way (events, leases, status...): the chart's RBAC suffices.
        List<String> refused = Files.readAllLines(operatorRun().log()).stream()
                .filter(l -> l.toLowerCase(Locale.ROOT).contains("forbidden")).toList();
        assertThat(refused).as("operator requests refused by RBAC").isEmpty();
        // `kubectl describe ftj <name>` shows the operator's events (it may create them in the job's namespace).
        assertThat(kube.client().v1().events().inNamespace(namespace).list().getItems())
                .filteredOn(e -> name.equals(e.getInvolvedObject().getName()) && "FineTuneJob".equals(e.getInvolvedObject().getKind()))
                .extracting(e -> e.getReason()).as("events on FineTuneJob " + name).contains("JobCreated");
    }

    @Test
    @Order(5)
    void helmUninstallStopsTheOperatorAndKeepsTheCrdAndTheJobs() throws Exception {
        OperatorKubelet.Run run = operatorRun();
        uninstall(chart);
        awaitTrue(Duration.ofSeconds(20), () -> !run.process().isAlive(), () -> "the operator process stopped");
        // Helm never deletes what crds/ installed (that would delete every user's FineTuneJob).
        assertThat(kube.client().apiextensions().v1().customResourceDefinitions().withName("finetunejobs.finetune.io").get())
                .isNotNull();
        assertThat(kube.client().resources(FineTuneJob.class).inNamespace(NS).withName("chart-lora").get()).isNotNull();
    }

    /** `helm uninstall`, then: every templated object gone and no operator pod left anywhere. */
    static void uninstall(ChartRelease release) throws Exception {
        release.uninstall(kube.client());
        Map<String, String> selector = release.deployment().getSpec().getSelector().getMatchLabels();
        awaitTrue(Duration.ofSeconds(90), () -> kube.client().pods().inAnyNamespace().withLabels(selector).list()
                .getItems().isEmpty(), () -> "no operator pod left; " + clusterState(NAMESPACE));
        for (HasMetadata item : release.objects()) {
            assertThat(kube.client().resource(item).get()).as(ChartRelease.describe(item) + " deleted").isNull();
        }
    }

    @Test
    @Order(6)
    void withWatchNamespacesTheOperatorGetsRolesThereAndNothingClusterWide() throws Exception {
        namespaced = ChartRelease.render(kube.client(), RELEASE, NAMESPACE, KUBE_VERSION,
                VALUES + "watchNamespaces: [" + NS + "]\n");
        installAndAwaitReady(namespaced);   // first, so that the next test meets whatever this install did

        assertThat(namespaced.ofKind(ClusterRole.class)).isEmpty();
        assertThat(namespaced.ofKind(ClusterRoleBinding.class)).isEmpty();

        assertThat(operatorRun().env()).containsEntry("QUARKUS_OPERATOR_SDK_NAMESPACES", NS);
        CanI op = new CanI(kube.client(), NAMESPACE, namespaced.one(ServiceAccount.class).getMetadata().getName());
        op.allowed("create", "batch", "jobs", "", NS);
        op.allowed("watch", "", "pods", "", NS);
        op.denied("list", "batch", "jobs", "", "");
        op.denied("watch", "", "pods", "", "");
        op.denied("create", "batch", "jobs", "", OTHER_NS);
        op.denied("patch", "finetune.io", "finetunejobs", "status", OTHER_NS);
        op.denied("get", "", "secrets", "", NS);
    }

    @Test
    @Order(7)
    void withWatchNamespacesJobsThereTrainAndJobsElsewhereAreLeftAlone() throws Exception {
        kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(OTHER_NS).endMetadata().build())
                .create();
        TinyLoraJob.submit(kube.client(), work, OTHER_NS, "elsewhere");
        trainToSucceeded(NS, "ns-lora");
        // Submitted before ns-lora, which went all the way to Succeeded meanwhile: an operator watching OTHER_NS would have
        // given it a status long ago.
        FineTuneJob elsewhere = kube.client().resources(FineTuneJob.class).inNamespace(OTHER_NS).withName("elsewhere").get();
        assertThat(elsewhere.getStatus()).as("status of " + OTHER_NS + "/elsewhere").isNull();
        assertThat(kube.client().batch().v1().jobs().inNamespace(OTHER_NS).list().getItems()).isEmpty();
        uninstall(namespaced);
    }

    static Pod operatorPod() {
        List<Pod> pods = kube.client().pods().inNamespace(NAMESPACE)
                .withLabels(chart.deployment().getSpec().getSelector().getMatchLabels()).list().getItems();
        assertThat(pods).as("operator pods").hasSize(1);
        return pods.get(0);
    }

    /** The newest operator container (one per pod; a new install makes a new pod). */
    static OperatorKubelet.Run operatorRun() {
        List<OperatorKubelet.Run> runs = List.copyOf(operators.runs().values());
        assertThat(runs).as("operator containers started").isNotEmpty();
        return runs.get(runs.size() - 1);
    }

    /** What `kubectl get deploy,rs,pods; kubectl get events` would show in one namespace, for failure messages. */
    static String clusterState(String namespace) {
        StringBuilder sb = new StringBuilder("state of namespace ").append(namespace).append(':');
        kube.client().apps().deployments().inNamespace(namespace).list().getItems().forEach(x -> sb.append("\n  deployment ")
                .append(x.getMetadata().getName()).append(' ').append(x.getStatus()));
        kube.client().apps().replicaSets().inNamespace(namespace).list().getItems().forEach(x -> sb.append("\n  replicaset ")
                .append(x.getMetadata().getName()).append(' ').append(x.getStatus()));
        kube.client().pods().inNamespace(namespace).list().getItems().forEach(x -> sb.append("\n  pod ")
                .append(x.getMetadata().getName()).append(" node=").append(x.getSpec().getNodeName()).append(' ')
                .append(x.getStatus() == null ? null : x.getStatus().getPhase()));
        kube.client().v1().events().inNamespace(namespace).list().getItems().forEach(x -> sb.append("\n  event ")
                .append(x.getInvolvedObject().getKind()).append('/').append(x.getInvolvedObject().getName()).append(' ')
                .append(x.getReason()).append(": ").append(x.getMessage()));
        return sb.toString();
    }

    /** The newest operator container's log tail (a crash-looping operator starts one per pod). */
    static String operatorLogs() {
        List<OperatorKubelet.Run> runs = List.copyOf(operators.runs().values());
        if (runs.isEmpty()) {
            return "(no operator container started)";
        }
        OperatorKubelet.Run last = runs.get(runs.size() - 1);
        return runs.size() + " operator container(s) started; the last, in pod " + last.pod().name() + ", logged:\n"
                + OperatorKubelet.tail(last.log());
    }

    static void awaitTrue(Duration timeout, Supplier<Boolean> condition, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what.get());
            }
            Thread.sleep(250);
        }
    }

}
