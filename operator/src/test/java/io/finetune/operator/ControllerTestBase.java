package io.finetune.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.finetune.operator.settings.OperatorSettings;
import io.finetune.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.operator.status.EventRecorder;
import io.finetune.testkit.RepoRoot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Controller tier: the real controller against fabric8's CRUD mock API server (with the committed CRD installed, so
 * status is a subresource), reconciled by hand pass after pass while {@link Kubelet} plays the cluster.
 */
@EnableKubernetesMockClient(crud = true)
abstract class ControllerTestBase {
    static KubernetesClient client;
    static KubernetesMockServer server;

    MutableClock clock;
    FakeStatusWriter statusWriter;
    SimpleMeterRegistry registry;
    OperatorMetrics metrics;
    FineTuneJobController controller;
    Kubelet kubelet;

    @BeforeEach
    void setUpCluster() throws IOException {
        Path crd = RepoRoot.find().resolve("crds/finetunejobs.finetune.io-v1.yml");
        try (InputStream in = Files.newInputStream(crd)) {
            CustomResourceDefinition def = client.apiextensions().v1().customResourceDefinitions().load(in).item();
            if (client.apiextensions().v1().customResourceDefinitions().withName(def.getMetadata().getName()).get() == null) {
                client.apiextensions().v1().customResourceDefinitions().resource(def).create();
            }
        }
        // The mock server lives for the whole class: start each test from an empty namespace.
        client.resources(FineTuneJob.class).inNamespace(TestJobs.NAMESPACE).delete();
        client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).delete();
        client.pods().inNamespace(TestJobs.NAMESPACE).delete();
        client.configMaps().inNamespace(TestJobs.NAMESPACE).delete();
        client.serviceAccounts().inNamespace(TestJobs.NAMESPACE).delete();
        client.rbac().roles().inNamespace(TestJobs.NAMESPACE).delete();
        client.rbac().roleBindings().inNamespace(TestJobs.NAMESPACE).delete();
        client.v1().events().inNamespace(TestJobs.NAMESPACE).delete();
        clock = new MutableClock();
        statusWriter = new FakeStatusWriter(client);
        registry = new SimpleMeterRegistry();
        metrics = new OperatorMetrics(registry);
        controller = newController();
        kubelet = new Kubelet(client);
    }

    /** A fresh controller instance, as after an operator restart. */
    FineTuneJobController newController() {
        return new FineTuneJobController(client, OperatorSettings.defaults(), statusWriter, new EventRecorder(client, clock),
                metrics, clock);
    }

    FineTuneJob create(FineTuneJob job) {
        FineTuneJob created = client.resource(job).create();
        // The mock keeps our test uid only if we give it one; reconcile always works from the stored object.
        return created;
    }

    FineTuneJob get(FineTuneJob job) {
        return client.resources(FineTuneJob.class).inNamespace(job.getMetadata().getNamespace()).withName(job.getMetadata().getName()).get();
    }

    /** One reconcile pass on the stored object (what JOSDK hands the reconciler), then the stored status. */
    FineTuneJobStatus reconcile(FineTuneJob job) {
        controller.reconcile(get(job));
        return get(job).getStatus();
    }

    List<Job> jobs() {
        return client.batch().v1().jobs().inNamespace(TestJobs.NAMESPACE).list().getItems();
    }

    /** "Type Reason" of every event on the job, oldest first. */
    List<String> events(FineTuneJob job) {
        return client.v1().events().inNamespace(TestJobs.NAMESPACE).list().getItems().stream()
                .filter(e -> job.getMetadata().getName().equals(e.getInvolvedObject().getName()))
                .sorted(java.util.Comparator.comparing(Event::getMetadata, java.util.Comparator.comparing(m -> m.getCreationTimestamp() == null ? "" : m.getCreationTimestamp())))
                .map(e -> e.getType() + " " + e.getReason()).collect(Collectors.toList());
    }

    List<Event> eventObjects(FineTuneJob job) {
        return client.v1().events().inNamespace(TestJobs.NAMESPACE).list().getItems().stream()
                .filter(e -> job.getMetadata().getName().equals(e.getInvolvedObject().getName())).collect(Collectors.toList());
    }
}
