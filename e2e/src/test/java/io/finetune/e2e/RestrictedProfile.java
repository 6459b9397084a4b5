package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The Pod Security Standards' "restricted" profile (kubernetes.io/docs/concepts/security/pod-security-standards: the
 * baseline rules plus the restricted ones) as far as a pod spec can break it. Kubernetes 1.20 cannot enforce the profile
 * (the PodSecurity admission plugin arrived in 1.22), so the end-to-end test applies this reading of the rules to the
 * pod the API server stored instead; it is not the admission plugin.
 */
final class RestrictedProfile {
    private RestrictedProfile() {
    }

    /** One line per rule {@code spec} breaks; empty when it passes the profile. */
    static List<String> violations(PodSpec spec) {
        List<String> v = new ArrayList<>();
        if (Boolean.TRUE.equals(spec.getHostNetwork()) || Boolean.TRUE.equals(spec.getHostPID())
                || Boolean.TRUE.equals(spec.getHostIPC())) {
            v.add("host namespaces");
        }
        spec.getVolumes().stream().filter(vol -> vol.getConfigMap() == null && vol.getEmptyDir() == null
                && vol.getSecret() == null && vol.getProjected() == null && vol.getPersistentVolumeClaim() == null
                && vol.getDownwardAPI() == null && vol.getCsi() == null && vol.getEphemeral() == null)
                .forEach(vol -> v.add("volume " + vol.getName() + " has a type outside the restricted set"));
        var pod = spec.getSecurityContext();
        boolean podNonRoot = pod != null && Boolean.TRUE.equals(pod.getRunAsNonRoot());
        boolean podSeccomp = pod != null && pod.getSeccompProfile() != null
                && List.of("RuntimeDefault", "Localhost").contains(pod.getSeccompProfile().getType());
        if (pod != null && Long.valueOf(0).equals(pod.getRunAsUser())) {
            v.add("pod runAsUser 0");
        }
        for (Container c : spec.getContainers()) {
            var sc = c.getSecurityContext();
            String n = "container " + c.getName() + ": ";
            if (sc == null) {
                v.add(n + "no securityContext");
                continue;
            }
            if (Boolean.TRUE.equals(sc.getPrivileged())) {
                v.add(n + "privileged");
            }
            if (!Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
                v.add(n + "allowPrivilegeEscalation is not false");
            }
            if (!(Boolean.TRUE.equals(sc.getRunAsNonRoot()) || podNonRoot && sc.getRunAsNonRoot() == null)) {
                v.add(n + "runAsNonRoot is not true");
            }
            if (Long.valueOf(0).equals(sc.getRunAsUser())) {
                v.add(n + "runAsUser 0");
            }
            boolean seccomp = sc.getSeccompProfile() != null
                    ? List.of("RuntimeDefault", "Localhost").contains(sc.getSeccompProfile().getType()) : podSeccomp;
            if (!seccomp) {
                v.add(n + "seccompProfile is not RuntimeDefault/Localhost");
            }
            var caps = sc.getCapabilities();
            if (caps == null || caps.getDrop() == null || !caps.getDrop().contains("ALL")) {
                v.add(n + "capabilities do not drop ALL");
            }
            if (caps != null && caps.getAdd() != null && caps.getAdd().stream().anyMatch(a -> !"NET_BIND_SERVICE".equals(a))) {
                v.add(n + "adds capabilities " + caps.getAdd());
            }
            if (c.getPorts() != null && c.getPorts().stream().anyMatch(p -> p.getHostPort() != null && p.getHostPort() != 0)) {
                v.add(n + "hostPort");
            }
        }
        return v;
    }
}
