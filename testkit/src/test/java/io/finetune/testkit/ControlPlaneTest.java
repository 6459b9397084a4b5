package io.finetune.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The committed CRD, example and RBAC model on a real kube-apiserver (schema validation, status subresource,
 * resourceNames-scoped Roles, ServiceAccount tokens) and ownerReference garbage collection by the real controller.
 * Scheduling and the fake kubelet are in {@link SchedulingTest}; both share one plane via {@link SharedPlane}.
 */
class ControlPlaneTest {
    private static ControlPlane kube;

    @BeforeEach
    void start() {   // per test, so a missing plane reports each test as skipped with the reason
        kube = SharedPlane.get();
    }

    @Test
    void exampleIsAcceptedByTheServerSchemaAndOutOfRangeValuesAreRejected() throws Exception {
        String ns = namespace("schema");
        FineTuneJob job = example("llama-support-lora", ns);
        kube.client().resources(FineTuneJob.class).inNamespace(ns).resource(job).create();

        FineTuneJob stored = kube.client().resources(FineTuneJob.class).inNamespace(ns).withName("llama-support-lora").get();
        assertThat(stored.getSpec().method.lora.rank).isEqualTo(16);
        assertThat(stored.getSpec().dataset.source).isEqualTo("s3://datasets/support/train.jsonl");
        assertThat(stored.getSpec().training.learningRate).isEqualTo(0.0002);

        FineTuneJob bad = example("rank-too-large", ns);
        bad.getSpec().method.lora.rank = 5000;
        assertThatThrownBy(() -> kube.client().resources(FineTuneJob.class).inNamespace(ns).resource(bad).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(422);
                    assertThat(e.getMessage()).contains("spec.method.lora.rank");
                });
    }

    @Test
    void perJobServiceAccountMayPatchOnlyItsOwnJobStatus() throws Exception {
        String ns = namespace("rbac");
        for (String name : List.of("job-a", "job-b")) {
            kube.client().resources(FineTuneJob.class).inNamespace(ns).resource(example(name, ns)).create();
        }
        kube.client().serviceAccounts().inNamespace(ns).resource(new ServiceAccountBuilder()
                .withNewMetadata().withName("job-a-trainer").endMetadata().build()).create();
        kube.client().rbac().roles().inNamespace(ns).resource(new RoleBuilder()
                .withNewMetadata().withName("job-a-trainer").endMetadata()
                .addNewRule().withApiGroups(FineTuneJob.GROUP).withResources("finetunejobs/status")
                .withResourceNames("job-a").withVerbs("get", "patch").endRule()
                .build()).create();
        kube.client().rbac().roleBindings().inNamespace(ns).resource(new RoleBindingBuilder()
                .withNewMetadata().withName("job-a-trainer").endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                .withName("job-a-trainer").endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName("job-a-trainer").withNamespace(ns).endSubject()
                .build()).create();

        String progress = "{\"status\":{\"progress\":{\"step\":3,\"totalSteps\":10,\"loss\":1.25}}}";
        KubernetesClient trainer = kube.clientFor(ns, "job-a-trainer");
        trainer.resources(FineTuneJob.class).inNamespace(ns).withName("job-a").subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), progress);
        FineTuneJob a = kube.client().resources(FineTuneJob.class).inNamespace(ns).withName("job-a").get();
        assertThat(a.getStatus().progress.step).isEqualTo(3L);
        assertThat(a.getStatus().progress.loss).isEqualTo(1.25);

        assertThatThrownBy(() -> trainer.resources(FineTuneJob.class).inNamespace(ns).withName("job-b")
                .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), progress))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
        // Its own spec is off limits too: only the status subresource is granted.
        assertThatThrownBy(() -> trainer.resources(FineTuneJob.class).inNamespace(ns).withName("job-a")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":true}}"))
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
        FineTuneJob b = kube.client().resources(FineTuneJob.class).inNamespace(ns).withName("job-b").get();
        assertThat(b.getStatus() == null || b.getStatus().progress == null).isTrue();
    }

    @Test
    void deletingTheOwnerGarbageCollectsTheConfigMapItOwns() throws Exception {
        String ns = namespace("gc");
        FineTuneJob owner = kube.client().resources(FineTuneJob.class).inNamespace(ns)
                .resource(example("owner", ns)).create();
        kube.client().configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
                .withNewMetadata().withName("owner-config")
                .addNewOwnerReference().withApiVersion(FineTuneJob.API_VERSION).withKind("FineTuneJob")
                .withName("owner").withUid(owner.getMetadata().getUid()).withController(true)
                .withBlockOwnerDeletion(true).endOwnerReference()
                .endMetadata().addToData("job.yaml", "x").build()).create();
        kube.client().configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
                .withNewMetadata().withName("unrelated").endMetadata().addToData("k", "v").build()).create();

        kube.client().resources(FineTuneJob.class).inNamespace(ns).withName("owner").delete();

        ConfigMap gone = kube.client().configMaps().inNamespace(ns).withName("owner-config")
                .waitUntilCondition(cm -> cm == null, 60, TimeUnit.SECONDS);
        assertThat(gone).isNull();
        assertThat(kube.client().configMaps().inNamespace(ns).withName("unrelated").get()).isNotNull();
    }

    static String namespace(String name) {
        kube.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata()
                .build()).create();
        return name;
    }

    private static FineTuneJob example(String name, String ns) throws Exception {
        FineTuneJob job = FineTuneJobManifest.read(RepoFiles.example("lora.yaml"));
        job.getMetadata().setName(name);
        job.getMetadata().setNamespace(ns);
        return job;
    }
}
