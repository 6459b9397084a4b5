package io.finetune.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The chart as {@code helm install <release> charts/finetune-operator -n <namespace> --create-namespace [--set k=v]}
 * installs it, done step by step so that each object the API server refuses is named: the templates rendered by the real
 * Helm engine (helm-java, Helm's Go library), the CRDs of crds/ created first and never templated, the release namespace
 * created when missing, then every object created in Helm's install order with Helm's ownership metadata.
 * {@link #uninstall} deletes them like {@code helm uninstall}: reverse order, background cascade, CRDs and the namespace stay.
 */
final class ChartRelease {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Helm's kind order for install (pkg/releaseutil/kind_sorter.go InstallOrder), the kinds a chart like ours uses. */
    private static final List<String> INSTALL_ORDER = List.of("Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
            "PodDisruptionBudget", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "CustomResourceDefinition",
            "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicaSet",
            "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "Ingress");
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "CustomResourceDefinition", "ClusterRole",
            "ClusterRoleBinding", "PersistentVolume", "StorageClass", "PriorityClass");

    private final String release;
    private final String namespace;
    private final List<HasMetadata> crds;
    private final List<HasMetadata> objects;

    private ChartRelease(String release, String namespace, List<HasMetadata> crds, List<HasMetadata> objects) {
        this.release = release;
        this.namespace = namespace;
        this.crds = crds;
        this.objects = objects;
    }

    /**
     * Renders the chart with its values.yaml overridden by {@code valuesYaml} (like {@code -f my-values.yaml}), for the
     * given Kubernetes version (what `helm install` reads from the cluster).
     */
    static ChartRelease render(KubernetesClient client, String release, String namespace, String kubeVersion,
            String valuesYaml) {
        Path chartDir = Repo.root().resolve("charts/finetune-operator");
        // Without --include-crds, as `helm install` renders: crds/ is read separately below.
        var template = new Helm(chartDir).template().withName(release).withNamespace(namespace).withKubeVersion(kubeVersion)
                .skipCrds();
        try {
            Path values = Files.createTempFile("chart-values-", ".yaml");
            values.toFile().deleteOnExit();
            template = template.withValuesFile(Files.writeString(values, valuesYaml));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the values file", e);
        }
        List<HasMetadata> crds = crdsOf(chartDir, client);
        List<HasMetadata> objects = new ArrayList<>();
        for (JsonNode doc : parse(template.call())) {
            HasMetadata item = client.getKubernetesSerialization().convertValue(doc, HasMetadata.class);
            if (item.getMetadata().getNamespace() == null && !CLUSTER_SCOPED.contains(item.getKind())) {
                item.getMetadata().setNamespace(namespace);   // Helm's kube client puts namespaced objects in -n
            }
            // What Helm 3.2+ writes on every object it installs (release ownership for upgrades/adoption).
            Map<String, String> labels = item.getMetadata().getLabels() == null ? new LinkedHashMap<>()
                    : new LinkedHashMap<>(item.getMetadata().getLabels());
            labels.put("app.kubernetes.io/managed-by", "Helm");
            item.getMetadata().setLabels(labels);
            Map<String, String> annotations = item.getMetadata().getAnnotations() == null ? new LinkedHashMap<>()
                    : new LinkedHashMap<>(item.getMetadata().getAnnotations());
            annotations.put("meta.helm.sh/release-name", release);
            annotations.put("meta.helm.sh/release-namespace", namespace);
            item.getMetadata().setAnnotations(annotations);
            objects.add(item);
        }
        objects.sort(Comparator.comparingInt(ChartRelease::installRank));
        return new ChartRelease(release, namespace, crds, objects);
    }

    /** What Helm installs from crds/ before any template: every YAML document of every file there, untemplated. */
    private static List<HasMetadata> crdsOf(Path chartDir, KubernetesClient client) {
        List<HasMetadata> crds = new ArrayList<>();
        try (Stream<Path> files = Files.list(chartDir.resolve("crds"))) {
            for (Path f : files.filter(p -> p.toString().matches(".*\\.(ya?ml|json)$")).sorted().toList()) {
                for (JsonNode doc : parse(Files.readString(f))) {
                    crds.add(client.getKubernetesSerialization().convertValue(doc, HasMetadata.class));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + chartDir.resolve("crds"), e);
        }
        return crds;
    }

    private static int installRank(HasMetadata item) {
        int i = INSTALL_ORDER.indexOf(item.getKind());
        return i < 0 ? INSTALL_ORDER.size() : i;   // unknown kinds last, as Helm does
    }

    List<HasMetadata> crds() {
        return crds;
    }

    /** The templated objects, in install order. */
    List<HasMetadata> objects() {
        return objects;
    }

    <T extends HasMetadata> List<T> ofKind(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type) {
        List<T> all = ofKind(type);
        if (all.size() != 1) {
            throw new AssertionError("the chart rendered " + all.size() + " " + type.getSimpleName() + "(s), expected one");
        }
        return all.get(0);
    }

    Deployment deployment() {
        return one(Deployment.class);
    }

    /**
     * Creates everything as {@code helm install} does (POST, no server-side apply: Helm 3 creates, so 1.20 drops CRD
     * fields it does not know, e.g. x-kubernetes-validations, instead of refusing them). Waits for each CRD to be
     * Established before the templates, as Helm does; CRDs already there are left as they are. Throws an AssertionError naming the first object refused.
     */
    void install(KubernetesClient admin) {
        for (HasMetadata crd : crds) {
            if (admin.resource(crd).get() != null) {
                continue;   // Helm installs a CRD of crds/ only when absent and never upgrades it
            }
            create(admin, crd);
            admin.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
                    .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                            && c.getStatus().getConditions().stream()
                            .anyMatch(x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
                            60, TimeUnit.SECONDS);
        }
        if (admin.namespaces().withName(namespace).get() == null) {   // --create-namespace
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
                    .create();
        }
        for (HasMetadata item : objects) {
            create(admin, item);
        }
    }

    private void create(KubernetesClient admin, HasMetadata item) {
        try {
            admin.resource(item).create();
        } catch (KubernetesClientException e) {
            throw new AssertionError("helm install " + release + ": the API server refused " + describe(item) + " (HTTP "
                    + e.getCode() + "): " + (e.getStatus() == null ? e.getMessage() : e.getStatus().getMessage()), e);
        }
    }

    /**
     * Like {@code helm uninstall}: deletes the templated objects in reverse install order with background cascading (the
     * garbage collector then removes ReplicaSets and pods). CRDs from crds/ and the namespace are left, as Helm leaves them.
     */
    void uninstall(KubernetesClient admin) {
        for (int i = objects.size() - 1; i >= 0; i--) {
            HasMetadata item = objects.get(i);
            try {
                admin.resource(item).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
            } catch (KubernetesClientException e) {
                throw new AssertionError("helm uninstall " + release + ": cannot delete " + describe(item) + ": "
                        + e.getMessage(), e);
            }
        }
    }

    static String describe(HasMetadata item) {
        String ns = item.getMetadata().getNamespace();
        return item.getKind() + " " + (ns == null ? "" : ns + "/") + item.getMetadata().getName();
    }

    private static List<JsonNode> parse(String manifests) {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(manifests)) {
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc instanceof ObjectNode && !doc.isEmpty()) {
                    docs.add(doc);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("helm rendered invalid YAML:\n" + manifests, e);
        }
        return docs;
    }
}
