package io.finetune.operator.desired;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.finetune.api.FineTuneJobManifest;
import io.finetune.api.v1alpha1.FineTuneJob;
import org.junit.jupiter.api.Test;

/** The trainer's ConfigMap (readable by the trainer's strict manifest parser) and its least-privilege RBAC. */
class ConfigAndRbacTest {
    final FineTuneJob ftj = TrainingJobTest.job(TrainingJobTest.BASE + "training: {learningRate: 0.001, maxSteps: 40}\n");

    @Test
    void configMapHoldsTheJobTheTrainerParsesStrictly() {
        ConfigMap cm = TrainerConfigMap.desired(ftj);

        assertThat(cm.getMetadata().getName()).isEqualTo("demo-config");
        String yaml = cm.getData().get("job.yaml");
        FineTuneJob back = FineTuneJobManifest.parse(yaml, "job.yaml");
        assertThat(back.getMetadata().getName()).isEqualTo("demo");
        assertThat(back.getMetadata().getNamespace()).isEqualTo("ml");
        assertThat(back.getMetadata().getUid()).isEqualTo("u-1");
        assertThat(back.getSpec().training.maxSteps).isEqualTo(40);
        assertThat(back.getSpec().output.destination).isEqualTo("s3://bucket/out");
        assertThat(yaml).doesNotContain("status");
    }

    @Test
    void roleAllowsOnlyGetAndPatchOnItsOwnStatus() {
        Role role = TrainerRbac.role(ftj);

        assertThat(role.getRules()).singleElement().satisfies(r -> {
            assertThat(r.getApiGroups()).containsExactly("finetune.io");
            assertThat(r.getResources()).containsExactly("finetunejobs/status");
            assertThat(r.getResourceNames()).containsExactly("demo");
            assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "patch");
        });
    }

    @Test
    void bindingTiesTheRoleToTheJobsServiceAccountOnly() {
        RoleBinding rb = TrainerRbac.roleBinding(ftj);

        assertThat(rb.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(rb.getRoleRef().getName()).isEqualTo("demo-trainer");
        assertThat(rb.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo("demo-trainer");
            assertThat(s.getNamespace()).isEqualTo("ml");
        });
        assertThat(TrainerRbac.serviceAccount(ftj).getMetadata().getName()).isEqualTo("demo-trainer");
    }
}
