package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.testkit.ControlPlane;
import io.finetune.testkit.FakeNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's failure paths with the packaged operator on a real control plane (kube-apiserver, controller-manager with
 * the real Job controller and garbage collector, kube-scheduler), as a user sees them through the FineTuneJob's status and
 * events: a job the scheduler cannot place, a trainer the kernel OOM-kills, deleting a job, and the pod the API server
 * stored. The node has one GPU; its kubelet ({@link TrainerKubelet}) OOM-kills {@code oom-*} pods and keeps {@code hold-*}
 * pods running, so no trainer runs here. Each case cleans up after itself, leaving the GPU free.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorFailurePathsTest {
    /** The default GPU resource, which the test node has one of. */
    static final String GPU = "nvidia.com/gpu";
    /** A GPU resource no node of this plane has. */
    static final String OTHER_GPU = "amd.com/gpu";

    static final String NS = "paths";
    static final String JOB_LABEL = OwnedObjects.JOB_LABEL;
    static final Duration GC_LIMIT = Duration.ofSeconds(60);

    @TempDir
    static Path work;
    static OperatorCluster cluster;
    static ControlPlane kube;
    static OperatorProcess operator;
    static FakeNode node;

    @BeforeAll
    static void startEverything() throws Exception {
        cluster = OperatorCluster.start(work, NS, plane -> new TrainerKubelet(plane, work.resolve("pods")));
        kube = cluster.kube();
        operator = cluster.operator();
        node = cluster.node();
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The fake kubelet wrote every pod status itself: a handler failure would have faked a pod failure instead. */
    @AfterEach
    void theFakeKubeletNeverFailed() {
        assertThat(node.handlerErrors()).isEmpty();
    }

    static KubernetesClient admin() {
        return kube.client();
    }

    /** A LoRA job that would train on files nobody reads here (the fake kubelet decides each pod's fate by job name). */
    static FineTuneJob submit(String name, int gpus, String memory) {
        return submit(name, gpus, memory, 0);
    }

    static FineTuneJob submit(String name, int gpus, String memory, int backoffLimit) {
        return submit(name, gpus, GPU, memory, backoffLimit);
    }

    static FineTuneJob submit(String name, int gpus, String gpuResource, String memory, int backoffLimit) {
        String yaml = """
                apiVersion: finetune.io/v1alpha1
                kind: FineTuneJob
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  image: finetune/finetune-trainer:e2e
                  model: {source: "file://%s/model"}
                  dataset: {source: "file://%s/train.jsonl", format: prompt-completion}
                  method:
                    type: LoRA
                    lora: {rank: 4, alpha: 8, targetModules: [q_proj, v_proj]}
                  training: {maxSteps: 12, batchSize: 4}
                  resources: {gpus: %d, gpuResourceName: %s, memory: %s}
                  preflight: Skip   # PreflightEndToEndTest covers the preflight
                  backoffLimit: %d
                  output: {destination: "file://%s/out/%s"}
                """.formatted(name, NS, work, work, gpus, gpuResource, memory, backoffLimit, work, name);
        FineTuneJob job = admin().resources(FineTuneJob.class)
                .load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).item();
        return admin().resources(FineTuneJob.class).inNamespace(NS).resource(job).create();
    }

    @Test
    @Order(1)
    void aJobNeedingMoreGpusThanAnyNodeHasStaysPendingWithTheSchedulersReason() throws Exception {
        FineTuneJob created;
        FineTuneJob pending;
        try (StatusRecorder rec = new StatusRecorder(admin(), NS, "big")) {
            // No node has this kind of GPU (more than one GPU per job is refused by the validator, so a second GPU
            // cannot be what the node lacks).
            created = submit("big", 1, OTHER_GPU, "2Gi", 0);
            pending = rec.await(j -> "Unschedulable".equals(StatusRecorder.reason(j.getStatus())), Duration.ofSeconds(60),
                    "big to be reported Unschedulable");
            // The scheduler retries the pod; the job must stay where it is meanwhile (no flapping, no failure).
            Thread.sleep(5000);
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/big:\n" + rec.transcript());
            assertThat(rec.phases()).as(rec.transcript()).containsExactly(Phase.Pending);
            assertThat(rec.seen().get(rec.seen().size() - 1).reason()).as(rec.transcript()).isEqualTo("Unschedulable");
        }
        assertThat(pending.getStatus().phase).isEqualTo(Phase.Pending);
        Condition scheduled = StatusRecorder.condition(pending.getStatus(), "Scheduled").orElseThrow();
        assertThat(scheduled.getStatus()).isEqualTo("False");
        assertThat(scheduled.getReason()).isEqualTo("Unschedulable");
        // The real kube-scheduler's words, e.g. "0/1 nodes are available: 1 Insufficient amd.com/gpu."
        assertThat(scheduled.getMessage()).contains("Insufficient " + OTHER_GPU);
        assertThat(pending.getStatus().message).contains("Insufficient " + OTHER_GPU);
        assertThat(pods("big")).singleElement().satisfies(p -> assertThat(p.getSpec().getNodeName()).isNull());
        assertThat(node.pods()).noneMatch(p -> p.name().startsWith("big-"));

        Event warning = awaitEvent(created, e -> "Unschedulable".equals(e.getReason()), Duration.ofSeconds(30));
        assertThat(warning.getType()).isEqualTo("Warning");
        assertThat(warning.getMessage()).contains("Insufficient " + OTHER_GPU);
        assertThat(events(created)).filteredOn(e -> "Unschedulable".equals(e.getReason())).as("one event per transition")
                .hasSize(1);
        System.out.println("Events of FineTuneJob " + NS + "/big:\n" + describe(events(created)));

        deleteAndAwaitGone("big", owned(created));
    }

    @Test
    @Order(2)
    void anOomKilledTrainerFailsTheJobWithReasonOomKilledAndAdvice() throws Exception {
        FineTuneJob created;
        FineTuneJob done;
        try (StatusRecorder rec = new StatusRecorder(admin(), NS, "oom-a")) {
            created = submit("oom-a", 1, "2Gi");
            done = rec.await(j -> j.getStatus() != null && j.getStatus().phase != null && j.getStatus().phase.isFinal(),
                    Duration.ofSeconds(60), "oom-a to finish");
            Thread.sleep(2000);   // later statuses must not move it again
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/oom-a:\n" + rec.transcript());
            // Running may be too short-lived to be recorded on a busy machine; never a way back, never another outcome.
            assertThat(List.of(List.of(Phase.Pending, Phase.Running, Phase.Failed), List.of(Phase.Pending, Phase.Failed)))
                    .as(rec.transcript()).contains(rec.phases());
        }
        assertThat(done.getStatus().phase).isEqualTo(Phase.Failed);
        Condition failed = StatusRecorder.condition(done.getStatus(), "Failed").orElseThrow();
        assertThat(failed.getStatus()).isEqualTo("True");
        assertThat(failed.getReason()).isEqualTo("OOMKilled");
        assertThat(failed.getMessage()).contains("exit code 137").contains("raise spec.resources.memory")
                .contains("batchSize");
        assertThat(done.getStatus().message).isEqualTo(failed.getMessage());
        // The log tail the kubelet put in the termination message (FallbackToLogsOnError) is no trainer error report.
        assertThat(failed.getMessage()).doesNotContain("step 3/12");
        assertThat(done.getStatus().attempts).isEqualTo(1);
        assertThat(done.getStatus().artifact).isNull();
        assertThat(done.getStatus().completionTime).isNotNull();

        // The real Job controller gave up on its own terms (backoffLimit 0): the operator's reason is more precise.
        Job job = admin().batch().v1().jobs().inNamespace(NS).withName("oom-a-trainer").get();
        assertThat(job.getStatus().getConditions()).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getReason()).isEqualTo("BackoffLimitExceeded");
        });
        assertThat(pods("oom-a")).singleElement().satisfies(p -> {
            assertThat(p.getStatus().getPhase()).isEqualTo("Failed");
            assertThat(p.getStatus().getContainerStatuses().get(0).getState().getTerminated().getReason()).isEqualTo("OOMKilled");
        });
        Event warning = awaitEvent(created, e -> "OOMKilled".equals(e.getReason()), Duration.ofSeconds(30));
        assertThat(warning.getType()).isEqualTo("Warning");
        assertThat(warning.getMessage()).contains("raise spec.resources.memory");
        System.out.println("Events of FineTuneJob " + NS + "/oom-a:\n" + describe(events(created)));

        deleteAndAwaitGone("oom-a", owned(created));
    }

    @Test
    @Order(3)
    void anOomKilledAttemptIsRetriedWithoutSteppingBackToPendingAndTheLastOomFailsTheJob() throws Exception {
        FineTuneJob created;
        FineTuneJob done;
        try (StatusRecorder rec = new StatusRecorder(admin(), NS, "oom-retry")) {
            created = submit("oom-retry", 1, "2Gi", 1);
            done = rec.await(j -> j.getStatus() != null && j.getStatus().phase != null && j.getStatus().phase.isFinal(),
                    Duration.ofSeconds(90), "oom-retry to finish");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/oom-retry:\n" + rec.transcript());
            // Each pod is Pending for a second (TrainerKubelet.CONTAINER_START): the retry's wait must read as part of the
            // run, not as a new one.
            assertThat(rec.phases()).as(rec.transcript()).containsExactly(Phase.Pending, Phase.Running, Phase.Failed);
            assertThat(rec.seen()).as(rec.transcript()).anySatisfy(s -> {
                assertThat(s.reason()).isEqualTo("Retrying");
                assertThat(s.message()).contains("failed (OOMKilled, exit code 137)");
            });
        }
        assertThat(done.getStatus().attempts).isEqualTo(2);
        Condition failed = StatusRecorder.condition(done.getStatus(), "Failed").orElseThrow();
        assertThat(failed.getReason()).isEqualTo("OOMKilled");
        assertThat(pods("oom-retry")).hasSize(2).allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Failed"));
        System.out.println("Events of FineTuneJob " + NS + "/oom-retry:\n" + describe(events(created)));
        assertThat(events(created)).as("an event for each attempt's start").filteredOn(e -> "Running".equals(e.getReason()))
                .hasSize(2);
        assertThat(events(created)).filteredOn(e -> "Retrying".equals(e.getReason())).singleElement()
                .satisfies(e -> assertThat(e.getType()).isEqualTo("Normal"));

        deleteAndAwaitGone("oom-retry", owned(created));
    }

    @Test
    @Order(4)
    void theJobAndPodAsTheApiServerStoredThemCarryTheGpuLimitAndTheRestrictedSecurityContext() throws Exception {
        // A GPU resource other than the default nvidia.com/gpu, so the limit must come from the spec (and the pod stays
        // unscheduled, unbound: the node has none of it).
        FineTuneJob created = submit("shape", 1, OTHER_GPU, "3Gi", 0);
        Job job = await(() -> admin().batch().v1().jobs().inNamespace(NS).withName("shape-trainer").get(),
                Duration.ofSeconds(30), "Job shape-trainer");
        Pod pod = await(() -> pods("shape").stream().findFirst().orElse(null), Duration.ofSeconds(30), "the pod of shape");

        assertThat(job.getMetadata().getOwnerReferences()).singleElement().satisfies(r -> {
            assertThat(r.getUid()).isEqualTo(created.getMetadata().getUid());
            assertThat(r.getController()).isTrue();
        });
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        for (PodSpec spec : List.of(job.getSpec().getTemplate().getSpec(), pod.getSpec())) {
            Container c = spec.getContainers().get(0);
            assertThat(c.getResources().getLimits()).containsEntry(OTHER_GPU, new Quantity("1"))
                    .containsEntry("memory", new Quantity("3Gi"));
            assertThat(spec.getRestartPolicy()).isEqualTo("Never");
            assertThat(spec.getServiceAccountName()).isEqualTo("shape-trainer");
            assertThat(c.getPorts()).anySatisfy(p -> {
                assertThat(p.getName()).isEqualTo("metrics");
                assertThat(p.getContainerPort()).isPositive();
            });
            assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
            assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as("read-only root filesystem").isTrue();
            assertThat(c.getVolumeMounts()).filteredOn(m -> !Boolean.TRUE.equals(m.getReadOnly())).isNotEmpty()
                    .allSatisfy(m -> assertThat(spec.getVolumes()).anySatisfy(vol -> {
                        assertThat(vol.getName()).isEqualTo(m.getName());
                        assertThat(vol.getEmptyDir()).as("writable mount " + m.getMountPath()).isNotNull();
                    }));
            assertThat(RestrictedProfile.violations(spec)).as("Pod Security 'restricted' rules").isEmpty();
        }
        // The API server defaults requests to limits for extended resources: what the scheduler counted in case 1.
        assertThat(pod.getSpec().getContainers().get(0).getResources().getRequests())
                .containsEntry(OTHER_GPU, new Quantity("1"));
        // The pod's identity is the per-job ServiceAccount, allowed nothing but its own job's status.
        assertThat(admin().serviceAccounts().inNamespace(NS).withName("shape-trainer").get()).isNotNull();
        Role role = admin().rbac().roles().inNamespace(NS).withName("shape-trainer").get();
        assertThat(role.getRules()).singleElement().satisfies(r -> {
            assertThat(r.getResources()).containsExactly("finetunejobs/status");
            assertThat(r.getResourceNames()).containsExactly("shape");
            assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "patch");
        });
        // Kubernetes 1.20 cannot enforce the profile (the PodSecurity admission plugin arrived in 1.22, beta in 1.23):
        // the check above is this test's reading of the restricted rules, not the API server's admission.

        deleteAndAwaitGone("shape", owned(created));
    }

    @Test
    @Order(5)
    void deletingAJobGarbageCollectsEverythingTheOperatorCreatedForItAndNothingElse() throws Exception {
        FineTuneJob doomed = submit("hold-del", 1, "2Gi");
        try (StatusRecorder rec = new StatusRecorder(admin(), NS, "hold-del")) {
            rec.await(j -> StatusRecorder.inPhase(j, Phase.Running), Duration.ofSeconds(60), "hold-del to run");
        }
        // Another job, waiting for the GPU hold-del holds: every object of it must survive hold-del's deletion.
        try (StatusRecorder waiting = new StatusRecorder(admin(), NS, "hold-keep")) {
            FineTuneJob other = submit("hold-keep", 1, "2Gi");
            waiting.await(j -> "Unschedulable".equals(StatusRecorder.reason(j.getStatus())), Duration.ofSeconds(60),
                    "hold-keep to wait for the GPU");
            Map<String, HasMetadata> doomedObjects = owned(doomed);
            Map<String, HasMetadata> otherObjects = owned(other);
            for (Map<String, HasMetadata> objects : List.of(doomedObjects, otherObjects)) {
                assertThat(objects.keySet().stream().map(k -> k.substring(0, k.indexOf('/'))).distinct())
                        .containsExactlyInAnyOrder("Job", "Pod", "ConfigMap", "ServiceAccount", "Role", "RoleBinding");
            }
            assertThat(node.pods()).anyMatch(p -> p.name().startsWith("hold-del-"));
            // The operator's own RBAC holds no delete verb on any of these kinds (yet may create them): what removes
            // them can only be the garbage collector, following the ownerReferences the operator wrote.
            for (HasMetadata o : doomedObjects.values()) {
                assertThat(operatorMay("delete", o)).as("operator may delete " + o.getKind()).isFalse();
                assertThat(operatorMay("deletecollection", o)).as("operator may deletecollection " + o.getKind()).isFalse();
            }
            assertThat(operatorMay("create", doomedObjects.get("ConfigMap/hold-del-config"))).as("the review's control").isTrue();

            long ms = deleteAndAwaitGone("hold-del", doomedObjects);
            System.out.println("hold-del: " + doomedObjects.keySet() + " garbage-collected " + ms + " ms after the delete");

            // The freed GPU goes to the job that waited for it: hold-del's pod is really gone, not just marked.
            FineTuneJob running = waiting.await(j -> StatusRecorder.inPhase(j, Phase.Running), Duration.ofSeconds(60),
                    "hold-keep to get the GPU");
            System.out.println("Observed status transitions of FineTuneJob " + NS + "/hold-keep:\n" + waiting.transcript());
            assertThat(waiting.phases()).as(waiting.transcript()).containsExactly(Phase.Pending, Phase.Running);
            Condition scheduled = StatusRecorder.condition(running.getStatus(), "Scheduled").orElseThrow();
            assertThat(scheduled.getStatus()).isEqualTo("True");
            assertThat(scheduled.getMessage()).contains(node.name());
            Map<String, HasMetadata> after = owned(other);
            for (Map.Entry<String, HasMetadata> e : otherObjects.entrySet()) {
                HasMetadata now = after.get(e.getKey());
                assertThat(now).as(e.getKey() + " of hold-keep").isNotNull();
                assertThat(now.getMetadata().getUid()).as(e.getKey()).isEqualTo(e.getValue().getMetadata().getUid());
                assertThat(now.getMetadata().getDeletionTimestamp()).as(e.getKey()).isNull();
            }
            deleteAndAwaitGone("hold-keep", after);
        }
    }

    static Map<String, HasMetadata> owned(FineTuneJob job) {
        return OwnedObjects.of(admin(), job);
    }

    static long deleteAndAwaitGone(String name, Map<String, HasMetadata> objects) throws InterruptedException {
        return OwnedObjects.deleteAndAwaitGone(admin(), NS, name, objects, GC_LIMIT);
    }

    /** A SubjectAccessReview: may the operator's ServiceAccount do {@code verb} on object {@code o}? */
    static boolean operatorMay(String verb, HasMetadata o) {
        String sa = "system:serviceaccount:" + OperatorProcess.NAMESPACE + ":" + OperatorProcess.SERVICE_ACCOUNT;
        SubjectAccessReview review = admin().authorization().v1().subjectAccessReview().create(new SubjectAccessReviewBuilder()
                .withNewSpec().withUser(sa)
                .withGroups("system:serviceaccounts", "system:serviceaccounts:" + OperatorProcess.NAMESPACE, "system:authenticated")
                .withNewResourceAttributes().withNamespace(NS).withVerb(verb).withGroup(HasMetadata.getGroup(o.getClass()))
                .withResource(HasMetadata.getPlural(o.getClass())).withName(o.getMetadata().getName()).endResourceAttributes()
                .endSpec().build());
        return review.getStatus().getAllowed();
    }

    static List<Pod> pods(String job) {
        return admin().pods().inNamespace(NS).withLabel(JOB_LABEL, job).list().getItems();
    }

    /** Events whose involvedObject is exactly this FineTuneJob (same uid: not a deleted namesake). */
    static List<Event> events(FineTuneJob job) {
        return admin().v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> "FineTuneJob".equals(e.getInvolvedObject().getKind())
                        && job.getMetadata().getUid().equals(e.getInvolvedObject().getUid()))
                .sorted(Comparator.comparingLong(e -> Long.parseLong(e.getMetadata().getResourceVersion()))).toList();
    }

    /** Events as {@code kubectl describe} lists them: type, reason, message. */
    static String describe(List<Event> events) {
        StringBuilder sb = new StringBuilder();
        events.forEach(e -> sb.append("  ").append(e.getType()).append("  ").append(e.getReason()).append("  ")
                .append(e.getMessage()).append('\n'));
        return sb.toString();
    }

    static Event awaitEvent(FineTuneJob job, Predicate<Event> which, Duration timeout) throws InterruptedException {
        return await(() -> events(job).stream().filter(which).findFirst().orElse(null), timeout,
                "an event on " + job.getMetadata().getName());
    }

    static <T> T await(Supplier<T> read, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T v = read.get();
            if (v != null) {
                return v;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(200);
        }
    }
}
