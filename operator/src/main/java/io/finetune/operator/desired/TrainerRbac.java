package io.finetune.operator.desired;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.finetune.api.v1alpha1.FineTuneJob;
import io.finetune.operator.naming.Names;

/**
 * The trainer pod's identity: a ServiceAccount per job whose Role allows only get/patch on the status of its own
 * FineTuneJob (resourceNames: [job]), so a compromised or buggy trainer can touch nothing else.
 */
public final class TrainerRbac {
    private TrainerRbac() {
    }

    public static ServiceAccount serviceAccount(FineTuneJob job) {
        return new ServiceAccountBuilder()
                .withMetadata(Owners.metadata(job, Names.trainer(job)))
                .withAutomountServiceAccountToken(true)
                .build();
    }

    public static Role role(FineTuneJob job) {
        return new RoleBuilder()
                .withMetadata(Owners.metadata(job, Names.trainer(job)))
                .withRules(new PolicyRuleBuilder()
                        .withApiGroups(FineTuneJob.GROUP)
                        .withResources("finetunejobs/status")
                        .withResourceNames(job.getMetadata().getName())
                        .withVerbs("get", "patch")
                        .build())
                .build();
    }

    public static RoleBinding roleBinding(FineTuneJob job) {
        return new RoleBindingBuilder()
                .withMetadata(Owners.metadata(job, Names.trainer(job)))
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", Names.trainer(job))
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(Names.trainer(job))
                .withNamespace(job.getMetadata().getNamespace())
                .endSubject()
                .build();
    }
}
