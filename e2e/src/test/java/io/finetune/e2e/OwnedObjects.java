package io.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The objects that belong to one FineTuneJob in its namespace, found the way a user would: by label and ownerReference. */
final class OwnedObjects {
    static final String JOB_LABEL = "finetune.io/job-name";

    private OwnedObjects() {
    }

    /**
     * Everything in the namespace that belongs to FineTuneJob {@code job}: objects carrying its job-name label or owned by
     * it, and pods owned by its Job; keyed "Kind/name".
     */
    static Map<String, HasMetadata> of(KubernetesClient admin, FineTuneJob job) {
        String ns = job.getMetadata().getNamespace();
        String name = job.getMetadata().getName();
        String uid = job.getMetadata().getUid();
        List<HasMetadata> all = new ArrayList<>();
        all.addAll(admin.batch().v1().jobs().inNamespace(ns).list().getItems());
        all.addAll(admin.pods().inNamespace(ns).list().getItems());
        all.addAll(admin.configMaps().inNamespace(ns).list().getItems());
        all.addAll(admin.serviceAccounts().inNamespace(ns).list().getItems());
        all.addAll(admin.rbac().roles().inNamespace(ns).list().getItems());
        all.addAll(admin.rbac().roleBindings().inNamespace(ns).list().getItems());
        List<String> owners = new ArrayList<>(List.of(uid));
        all.stream().filter(o -> o instanceof Job && ownedBy(o, uid)).forEach(o -> owners.add(o.getMetadata().getUid()));
        Map<String, HasMetadata> out = new TreeMap<>();
        for (HasMetadata o : all) {
            Map<String, String> labels = o.getMetadata().getLabels();
            if (labels != null && name.equals(labels.get(JOB_LABEL)) || owners.stream().anyMatch(u -> ownedBy(o, u))) {
                out.put(o.getKind() + "/" + o.getMetadata().getName(), o);
            }
        }
        return out;
    }

    static boolean ownedBy(HasMetadata o, String uid) {
        return o.getMetadata().getOwnerReferences() != null
                && o.getMetadata().getOwnerReferences().stream().anyMatch(r -> uid.equals(r.getUid()));
    }

    /**
     * Deletes the FineTuneJob as {@code kubectl delete ftj} would (background propagation) and waits until it and every one
     * of {@code objects} are gone (the garbage collector's work: the operator holds no delete verb on them); returns how
     * long that took in milliseconds.
     */
    static long deleteAndAwaitGone(KubernetesClient admin, String ns, String name, Map<String, HasMetadata> objects,
                                   Duration limit) throws InterruptedException {
        assertThat(objects).as("objects of " + name).isNotEmpty();
        long t0 = System.nanoTime();
        admin.resources(FineTuneJob.class).inNamespace(ns).withName(name).delete();
        long deadline = t0 + limit.toNanos();
        while (true) {
            List<String> left = new ArrayList<>();
            if (admin.resources(FineTuneJob.class).inNamespace(ns).withName(name).get() != null) {
                left.add("FineTuneJob/" + name);
            }
            for (Map.Entry<String, HasMetadata> e : objects.entrySet()) {
                HasMetadata now = admin.resource(e.getValue()).inNamespace(ns).get();
                if (now != null && now.getMetadata().getUid().equals(e.getValue().getMetadata().getUid())) {
                    left.add(e.getKey());
                }
            }
            if (left.isEmpty()) {
                return (System.nanoTime() - t0) / 1_000_000;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still there " + limit.toSeconds() + " s after deleting FineTuneJob " + name
                        + ": " + left);
            }
            Thread.sleep(200);
        }
    }
}
