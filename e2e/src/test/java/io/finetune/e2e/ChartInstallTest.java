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
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.BoundPod;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.FakeNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
 * {@code helm uninstall} leaving no operator behind. The steps depend on each other and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartInstallTest {
    static final String RELEASE = "finetune";
    static final String NAMESPACE = "finetune-system";
    static final String NS = "ml";
    /**
     * The only value set on top of values.yaml: a trainer image no default anywhere carries, so a trainer pod running it
     * proves the chart's value reaches the operator. Everything else (leader election on, jobDefaults, probes, RBAC for
     * all namespaces) is the chart's default. The fake node runs the trainer jar whatever the image is called.
     */
    static final String TRAINER_IMAGE = "registry.example.com/ml/finetune-trainer:chart-e2e";
    static final Map<String, String> VALUES = Map.of("trainer.image", TRAINER_IMAGE);

    @TempDir
    static Path work;
    static ControlPlane kube;
    static ChartRelease chart;
    static OperatorKubelet operators;
    static TrainerKubelet trainers;
    static FakeNode node;

    @BeforeAll
    static void startClusterAndRenderChart() throws Exception {
        kube = ControlPlane.builder().withControllers().start();   // no CRD: the chart brings it; skips without binaries
        Repo.trainerJar();
        Repo.operatorJar();
        initModelAndData();
        kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .create();
        chart = ChartRelease.render(kube.client(), RELEASE, NAMESPACE, "v1.20.2", VALUES);
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

        chart.install(kube.client());

        for (HasMetadata item : chart.objects()) {
            assertThat(kube.client().resource(item).get()).as(ChartRelease.describe(item) + " exists").isNotNull();
        }
        Deployment d = chart.deployment();
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
        assertThat(operators.runs()).containsOnlyKeys(pod.getMetadata().getName());
        assertThat(operatorRun().process().isAlive()).isTrue();
        // The chart's env reached the process exactly (the values rendered into the Deployment, no test-only extras
        // except the kubeconfig and the emulated port).
        assertThat(operatorRun().env()).containsEntry("FINETUNE_OPERATOR_TRAINER_IMAGE", TRAINER_IMAGE)
                .containsEntry("FINETUNE_OPERATOR_DEFAULT_CPU", "4").containsEntry("FINETUNE_OPERATOR_DEFAULT_MEMORY", "32Gi")
                .doesNotContainKey("QUARKUS_PROFILE");   // leader election on: the "prod" profile
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
        String sa = chart.one(ServiceAccount.class).getMetadata().getName();
        // What the reconcile loop needs, in any namespace (watchNamespaces: [] = one ClusterRole).
        allowed(sa, "create", "batch", "jobs", "", NS);
        allowed(sa, "watch", "", "pods", "", "");
        allowed(sa, "patch", "finetune.io", "finetunejobs", "status", NS);
        allowed(sa, "create", "rbac.authorization.k8s.io", "rolebindings", "", NS);
        allowed(sa, "update", "coordination.k8s.io", "leases", "", NAMESPACE);
        // What the chart means to withhold: Secrets anywhere (credentials reach trainers only as secretKeyRef env),
        // creating or deleting users' FineTuneJobs, deleting Jobs (garbage collection does), leases outside its namespace,
        // and cluster-wide RBAC (no escalation path).
        for (String verb : List.of("get", "list", "watch")) {
            denied(sa, verb, "", "secrets", "", "");
            denied(sa, verb, "", "secrets", "", NS);
            denied(sa, verb, "", "secrets", "", NAMESPACE);
        }
        denied(sa, "create", "finetune.io", "finetunejobs", "", NS);
        denied(sa, "delete", "finetune.io", "finetunejobs", "", NS);
        denied(sa, "delete", "batch", "jobs", "", NS);
        denied(sa, "create", "", "pods", "", NS);
        denied(sa, "update", "coordination.k8s.io", "leases", "", NS);
        denied(sa, "create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "");
        denied(sa, "escalate", "rbac.authorization.k8s.io", "roles", "", NS);
    }

    static void allowed(String sa, String verb, String group, String resource, String subresource, String namespace) {
        assertThat(can(sa, verb, group, resource, subresource, namespace))
                .as("can-i " + describe(verb, group, resource, subresource, namespace) + " (needed)").isTrue();
    }

    static void denied(String sa, String verb, String group, String resource, String subresource, String namespace) {
        assertThat(can(sa, verb, group, resource, subresource, namespace))
                .as("can-i " + describe(verb, group, resource, subresource, namespace) + " (must be refused)").isFalse();
    }

    static String describe(String verb, String group, String resource, String subresource, String namespace) {
        return verb + " " + resource + (group.isEmpty() ? "" : "." + group) + (subresource.isEmpty() ? "" : "/" + subresource)
                + (namespace.isEmpty() ? " --all-namespaces" : " -n " + namespace);
    }

    /** {@code kubectl auth can-i <verb> <resource>[/<sub>] -n <ns> --as system:serviceaccount:<release ns>:<sa>}. */
    static boolean can(String sa, String verb, String group, String resource, String subresource, String namespace) {
        SubjectAccessReview sar = new SubjectAccessReviewBuilder().withNewSpec()
                .withUser("system:serviceaccount:" + NAMESPACE + ":" + sa)
                .withGroups("system:serviceaccounts", "system:serviceaccounts:" + NAMESPACE, "system:authenticated")
                .withNewResourceAttributes().withVerb(verb).withGroup(group).withResource(resource)
                .withSubresource(subresource).withNamespace(namespace).endResourceAttributes()
                .endSpec().build();
        return Boolean.TRUE.equals(kube.client().resource(sar).create().getStatus().getAllowed());
    }

    @Test
    @Order(4)
    void aLoraJobTrainsToSucceededUnderTheChartsRbacWithTheChartsDefaults() throws Exception {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: chart-lora
                  namespace: %s
                spec:
                  model:
                    source: file://%s
                  dataset:
                    source: file://%s
                    format: prompt-completion
                    evalFraction: 0.125
                    maxSeqLength: 32
                  method:
                    type: LoRA
                    lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: 6, batchSize: 4, learningRate: 0.01, logEverySteps: 1, seed: 11}
                  resources: {gpus: 1}
                  output:
                    destination: file://%s
                """.formatted(NS, work.resolve("model"), work.resolve("train.jsonl"), work.resolve("out/chart-lora"));
        try (StatusRecorder rec = new StatusRecorder(kube.client(), NS, "chart-lora")) {
            FineTuneJob job = kube.client().resources(FineTuneJob.class)
                    .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
            kube.client().resources(FineTuneJob.class).inNamespace(NS).resource(job).create();
            FineTuneJob done;
            try {
                done = rec.await(j -> StatusRecorder.inPhase(j, Phase.Succeeded) || StatusRecorder.inPhase(j, Phase.Failed),
                        Duration.ofSeconds(150), "chart-lora to finish");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + clusterState(NS) + "\noperator: " + operatorLogs(), e);
            }
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/chart-lora:\n" + rec.transcript());
            FineTuneJobStatus s = done.getStatus();
            assertThat(s.phase).as(rec.transcript() + trainers.logs()).isEqualTo(Phase.Succeeded);
            assertThat(rec.phases()).as(rec.transcript()).endsWith(Phase.Running, Phase.Succeeded).doesNotContain(Phase.Failed);
            assertThat(s.progress.step).isEqualTo(6);
            assertThat(s.artifact.uri).isEqualTo("file://" + work.resolve("out/chart-lora"));
            assertThat(s.artifact.digest).isEqualTo("sha256:"
                    + sha256(Files.readAllBytes(work.resolve("out/chart-lora/manifest.json"))));
        }
        // The trainer pod got the chart's trainer.image and jobDefaults (cpu 4, memory 32Gi as requests = limits).
        List<TrainerKubelet.Run> runs = trainers.runs().values().stream()
                .filter(r -> r.pod().name().startsWith("chart-lora")).toList();
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
        // `kubectl describe ftj chart-lora` shows the operator's events (it may create them in the job's namespace).
        assertThat(kube.client().v1().events().inNamespace(NS).list().getItems())
                .filteredOn(e -> "chart-lora".equals(e.getInvolvedObject().getName())
                        && "FineTuneJob".equals(e.getInvolvedObject().getKind()))
                .extracting(e -> e.getReason()).as("events on FineTuneJob chart-lora").contains("JobCreated");
    }

    @Test
    @Order(5)
    void helmUninstallStopsTheOperatorAndKeepsTheCrdAndTheJobs() throws Exception {
        OperatorKubelet.Run run = operatorRun();
        chart.uninstall(kube.client());

        Map<String, String> selector = chart.deployment().getSpec().getSelector().getMatchLabels();
        awaitTrue(Duration.ofSeconds(90), () -> kube.client().pods().inNamespace(NAMESPACE).withLabels(selector).list()
                .getItems().isEmpty(), () -> "no operator pod left in " + NAMESPACE);
        awaitTrue(Duration.ofSeconds(20), () -> !run.process().isAlive(), () -> "the operator process stopped");
        for (HasMetadata item : chart.objects()) {
            assertThat(kube.client().resource(item).get()).as(ChartRelease.describe(item) + " deleted").isNull();
        }
        assertThat(kube.client().pods().inAnyNamespace().withLabels(selector).list().getItems()).isEmpty();
        // Helm never deletes what crds/ installed (that would delete every user's FineTuneJob).
        assertThat(kube.client().apiextensions().v1().customResourceDefinitions().withName("finetunejobs.finetune.io").get())
                .isNotNull();
        assertThat(kube.client().resources(FineTuneJob.class).inNamespace(NS).withName("chart-lora").get()).isNotNull();
    }

    static Pod operatorPod() {
        List<Pod> pods = kube.client().pods().inNamespace(NAMESPACE)
                .withLabels(chart.deployment().getSpec().getSelector().getMatchLabels()).list().getItems();
        assertThat(pods).as("operator pods").hasSize(1);
        return pods.get(0);
    }

    static OperatorKubelet.Run operatorRun() {
        assertThat(operators.runs()).as("operator containers started").hasSize(1);
        return operators.runs().values().iterator().next();
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

    /** EndToEndTest's tiny model (the trainer jar's init-model, seed 7) and its 48-line reversal dataset. */
    static void initModelAndData() throws Exception {
        Process p = new ProcessBuilder(Repo.java().toString(), "-jar", Repo.trainerJar().toString(), "init-model", "--preset",
                "tiny", "--seed", "7", "--output", work.resolve("model").toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("init-model.log").toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(work.resolve("init-model.log"))).isZero();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 48; i++) {
            String w = Integer.toString(1000 + i * 37);
            sb.append("{\"prompt\": \"").append(w).append("=\", \"completion\": \"")
                    .append(new StringBuilder(w).reverse()).append("\"}\n");
        }
        Files.writeString(work.resolve("train.jsonl"), sb);
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
