package io.finetune.operator;

import static org.assertj.core.api.Assertions.assertThat;
import io.finetune.operator.settings.OperatorSettings;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.api.v1alpha1.FineTuneJobStatus;
import io.finetune.api.v1alpha1.Phase;
import io.finetune.operator.desired.TrainingJob;
import io.finetune.operator.status.ConditionType;
import io.finetune.operator.status.Conditions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Repeated, interrupted and restarted reconciles; suspend/resume; spec edits after start; ownership for deletion. */
class ReconcileSafetyTest extends ControllerTestBase {

    @Test
    void failedStatusWriteThenRetryStillMakesExactlyOneJob() {
        FineTuneJob ftj = create(TestJobs.lora("flaky"));
        statusWriter.failWrites = true;

        assertThatThrownBy(() -> reconcile(ftj)).isInstanceOf(KubernetesClientException.class);
        assertThatThrownBy(() -> reconcile(ftj)).isInstanceOf(KubernetesClientException.class);
        assertThat(jobs()).hasSize(1);
        assertThat(get(ftj).getStatus()).isNull();

        statusWriter.failWrites = false;
        FineTuneJobStatus status = reconcile(ftj);

        assertThat(jobs()).hasSize(1);
        assertThat(status.phase).isEqualTo(Phase.Pending);
        assertThat(events(ftj).stream().filter(e -> e.endsWith("JobCreated"))).hasSize(1);
        assertThat(registry.counter("finetune.reconcile.errors").count()).isEqualTo(2.0);
        assertThat(registry.counter("finetune.jobs.created").count()).isEqualTo(1.0);
    }

    @Test
    void restartedOperatorAdoptsTheExistingJob() {
        FineTuneJob ftj = create(TestJobs.lora("adopt"));
        reconcile(ftj);
        String uid = jobs().get(0).getMetadata().getUid();
        kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");

        controller = newController(); // a new process: no memory of the previous pass
        FineTuneJobStatus status = reconcile(ftj);

        assertThat(jobs()).singleElement().satisfies(j -> assertThat(j.getMetadata().getUid()).isEqualTo(uid));
        assertThat(status.phase).isEqualTo(Phase.Running);
    }

    @Test
    void crashBetweenJobCreationAndStatusIsAdoptedByTheNextOperator() {
        FineTuneJob ftj = create(TestJobs.lora("crashy"));
        statusWriter.failWrites = true;
        assertThatThrownBy(() -> reconcile(ftj)).isInstanceOf(KubernetesClientException.class);
        statusWriter.failWrites = false;

        controller = newController();
        FineTuneJobStatus status = reconcile(ftj);

        assertThat(jobs()).hasSize(1);
        assertThat(status.phase).isEqualTo(Phase.Pending);
    }

    @Test
    void everyCreatedObjectIsOwnedByTheFineTuneJobForGarbageCollection() {
        FineTuneJob ftj = create(TestJobs.lora("owned"));
        reconcile(ftj);
        String uid = get(ftj).getMetadata().getUid();
        String ns = TestJobs.NAMESPACE;

        List<HasMetadata> owned = List.of(
                client.configMaps().inNamespace(ns).withName("owned-config").get(),
                client.serviceAccounts().inNamespace(ns).withName("owned-trainer").get(),
                client.rbac().roles().inNamespace(ns).withName("owned-trainer").get(),
                client.rbac().roleBindings().inNamespace(ns).withName("owned-trainer").get(),
                client.batch().v1().jobs().inNamespace(ns).withName("owned-trainer").get());
        for (HasMetadata o : owned) {
            assertThat(o.getMetadata().getOwnerReferences()).as(o.getKind()).singleElement().satisfies(r -> {
                assertThat(r.getUid()).isEqualTo(uid);
                assertThat(r.getKind()).isEqualTo("FineTuneJob");
                assertThat(r.getController()).isTrue();
                assertThat(r.getBlockOwnerDeletion()).isTrue();
            });
        }
    }

    @Test
    void suspendAndResume() {
        FineTuneJob job = TestJobs.lora("pausable");
        job.getSpec().suspend = true;
        FineTuneJob ftj = create(job);

        FineTuneJobStatus suspended = reconcile(ftj);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isTrue();
        assertThat(suspended.phase).isEqualTo(Phase.Suspended);
        assertThat(Conditions.isTrue(suspended.conditions, ConditionType.Suspended)).isTrue();

        setSuspend(ftj, false);
        FineTuneJobStatus resumed = reconcile(ftj);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isFalse();
        assertThat(resumed.phase).isEqualTo(Phase.Pending);
        assertThat(Conditions.isTrue(resumed.conditions, ConditionType.Suspended)).isFalse();
        assertThat(resumed.conditions).noneMatch(c -> c.getType().equals("SpecChangeIgnored") && c.getStatus().equals("True"));

        kubelet.running(kubelet.startPod(ftj), "2026-01-01T00:00:05Z");
        assertThat(reconcile(ftj).phase).isEqualTo(Phase.Running);
        setSuspend(ftj, true);
        assertThat(reconcile(ftj).phase).isEqualTo(Phase.Suspended);
        assertThat(kubelet.job(ftj).getSpec().getSuspend()).isTrue();
        assertThat(jobs()).hasSize(1);
        assertThat(events(ftj)).contains("Normal Suspended", "Normal Resumed", "Normal Running");
    }

    @Test
    void specEditAfterStartIsIgnoredAndReported() {
        FineTuneJob ftj = create(TestJobs.lora("edited"));
        reconcile(ftj);
        Job before = kubelet.job(ftj);

        FineTuneJob edited = get(ftj);
        edited.getSpec().training.learningRate = 0.5;
        edited.getSpec().resources.gpus = 4;
        client.resource(edited).update();
        FineTuneJobStatus status = reconcile(ftj);

        Job after = kubelet.job(ftj);
        assertThat(after.getMetadata().getUid()).isEqualTo(before.getMetadata().getUid());
        assertThat(after.getSpec().getTemplate()).isEqualTo(before.getSpec().getTemplate());
        var ignored = Conditions.find(status.conditions, ConditionType.SpecChangeIgnored).orElseThrow();
        assertThat(ignored.getStatus()).isEqualTo("True");
        assertThat(ignored.getMessage()).contains("spec.training.learningRate", "spec.resources.gpus");
        assertThat(events(ftj)).contains("Warning SpecChangeIgnored");
        assertThat(client.configMaps().inNamespace(TestJobs.NAMESPACE).withName("edited-config").get().getData().get("job.yaml"))
                .as("the trainer keeps reading the spec it started with").doesNotContain("0.5");
    }

    @Test
    void jobOfADeletedNamesakeBlocksInsteadOfBeingAdopted() {
        FineTuneJob ftj = create(TestJobs.lora("namesake"));
        Job foreign = new JobBuilder(TrainingJob.desired(TestJobs.lora("namesake"), OperatorSettings.defaults()))
                .editMetadata().withOwnerReferences(new OwnerReference(FineTuneJob.API_VERSION, true, true, "FineTuneJob",
                        "namesake", "uid-of-a-deleted-one")).endMetadata().build();
        client.resource(foreign).create();

        FineTuneJobStatus status = reconcile(ftj);

        assertThat(status.phase).isEqualTo(Phase.Pending);
        assertThat(status.message).contains("belongs to another owner");
        assertThat(jobs()).singleElement().satisfies(j ->
                assertThat(j.getMetadata().getOwnerReferences().get(0).getUid()).isEqualTo("uid-of-a-deleted-one"));
        assertThat(events(ftj)).contains("Warning Blocked");
    }

    @Test
    void staleConfigMapLeftByAnInterruptedPassIsRewrittenBeforeTheJobStarts() {
        FineTuneJob ftj = create(TestJobs.lora("stale"));
        client.configMaps().resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName("stale-config")
                .withNamespace(TestJobs.NAMESPACE).endMetadata().addToData("job.yaml", "old: true").build()).create();

        reconcile(ftj);

        String yaml = client.configMaps().inNamespace(TestJobs.NAMESPACE).withName("stale-config").get().getData().get("job.yaml");
        assertThat(yaml).contains("tiny-llama").doesNotContain("old: true");
        assertThat(jobs()).hasSize(1);
    }

    @Test
    void specRemovedUnderARunningJobIsReportedNotThrown() {
        FineTuneJob ftj = create(TestJobs.lora("nospec"));
        reconcile(ftj);
        FineTuneJob edited = get(ftj);
        edited.setSpec(null);
        client.resource(edited).update();

        FineTuneJobStatus status = reconcile(ftj);

        assertThat(status.phase).isEqualTo(Phase.Pending);
        assertThat(Conditions.isTrue(status.conditions, ConditionType.SpecChangeIgnored)).isTrue();
        assertThat(jobs()).hasSize(1);
    }

    private void setSuspend(FineTuneJob ftj, boolean suspend) {
        FineTuneJob current = get(ftj);
        current.getSpec().suspend = suspend;
        client.resource(current).update();
    }

    @SuppressWarnings("unused")
    private Pod anyPod() {
        return client.pods().inNamespace(TestJobs.NAMESPACE).list().getItems().get(0);
    }
}
