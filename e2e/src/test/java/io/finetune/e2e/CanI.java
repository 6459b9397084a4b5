package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * {@code kubectl auth can-i <verb> <resource>[/<sub>] [-n <ns> | --all-namespaces] --as system:serviceaccount:<ns>:<sa>}:
 * a SubjectAccessReview the API server's authorizer (RBAC) answers for one ServiceAccount, with the groups its tokens carry.
 */
record CanI(KubernetesClient admin, String saNamespace, String sa) {
    /** Empty namespace: cluster-wide (all namespaces). Empty group: the core API group. */
    boolean can(String verb, String group, String resource, String subresource, String namespace) {
        SubjectAccessReview sar = new SubjectAccessReviewBuilder().withNewSpec()
                .withUser("system:serviceaccount:" + saNamespace + ":" + sa)
                .withGroups("system:serviceaccounts", "system:serviceaccounts:" + saNamespace, "system:authenticated")
                .withNewResourceAttributes().withVerb(verb).withGroup(group).withResource(resource)
                .withSubresource(subresource).withNamespace(namespace).endResourceAttributes()
                .endSpec().build();
        return Boolean.TRUE.equals(admin.resource(sar).create().getStatus().getAllowed());
    }

    void allowed(String verb, String group, String resource, String subresource, String namespace) {
        assertThat(can(verb, group, resource, subresource, namespace))
                .as("can-i " + describe(verb, group, resource, subresource, namespace) + " (needed)").isTrue();
    }

    void denied(String verb, String group, String resource, String subresource, String namespace) {
        assertThat(can(verb, group, resource, subresource, namespace))
                .as("can-i " + describe(verb, group, resource, subresource, namespace) + " (must be refused)").isFalse();
    }

    private String describe(String verb, String group, String resource, String subresource, String namespace) {
        return verb + " " + resource + (group.isEmpty() ? "" : "." + group) + (subresource.isEmpty() ? "" : "/" + subresource)
                + (namespace.isEmpty() ? " --all-namespaces" : " -n " + namespace) + " --as system:serviceaccount:"
                + saNamespace + ":" + sa;
    }
}
