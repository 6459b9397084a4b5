package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.ObjectFieldSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The value a kubelet gives one container env var: a literal, or valueFrom a field of the pod (the downward API), a Secret
 * key or a ConfigMap key of the pod's namespace. Null for a missing optional key; anything else it cannot resolve fails
 * naming the variable, as a kubelet refuses to start the container (CreateContainerConfigError).
 */
final class PodEnv {
    private PodEnv() {
    }

    static String value(KubernetesClient admin, Pod pod, EnvVar e) {
        EnvVarSource from = e.getValueFrom();
        if (from == null) {
            return e.getValue() == null ? "" : e.getValue();
        }
        if (from.getFieldRef() != null) {
            return field(pod, e.getName(), from.getFieldRef());
        }
        String namespace = pod.getMetadata().getNamespace();
        if (from.getSecretKeyRef() != null) {
            SecretKeySelector ref = from.getSecretKeyRef();
            Secret s = admin.secrets().inNamespace(namespace).withName(ref.getName()).get();
            String b64 = s == null || s.getData() == null ? null : s.getData().get(ref.getKey());
            if (b64 == null) {
                return optional(e, ref.getOptional(), "secret " + ref.getName() + " key " + ref.getKey());
            }
            return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
        }
        if (from.getConfigMapKeyRef() != null) {
            ConfigMapKeySelector ref = from.getConfigMapKeyRef();
            ConfigMap cm = admin.configMaps().inNamespace(namespace).withName(ref.getName()).get();
            String v = cm == null || cm.getData() == null ? null : cm.getData().get(ref.getKey());
            return v != null ? v : optional(e, ref.getOptional(), "configmap " + ref.getName() + " key " + ref.getKey());
        }
        throw new IllegalStateException("env " + e.getName() + ": valueFrom " + from + " is not emulated by this kubelet");
    }

    private static String optional(EnvVar e, Boolean optional, String what) {
        if (Boolean.TRUE.equals(optional)) {
            return null;
        }
        throw new IllegalStateException("env " + e.getName() + ": " + what + " does not exist");
    }

    /** The downward-API fields a container env may reference (fieldRef.fieldPath). */
    private static String field(Pod pod, String env, ObjectFieldSelector ref) {
        String path = ref.getFieldPath();
        return switch (path) {
            case "metadata.namespace" -> pod.getMetadata().getNamespace();
            case "metadata.name" -> pod.getMetadata().getName();
            case "metadata.uid" -> pod.getMetadata().getUid();
            case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName();
            case "spec.nodeName" -> pod.getSpec().getNodeName();
            case "status.hostIP", "status.podIP" -> "127.0.0.1";
            default -> {
                if (path.startsWith("metadata.labels['") && path.endsWith("']")) {
                    yield pod.getMetadata().getLabels().get(path.substring(17, path.length() - 2));
                }
                if (path.startsWith("metadata.annotations['") && path.endsWith("']")) {
                    yield pod.getMetadata().getAnnotations().get(path.substring(22, path.length() - 2));
                }
                throw new IllegalStateException("env " + env + ": fieldRef " + path + " is not a pod field");
            }
        };
    }
}
