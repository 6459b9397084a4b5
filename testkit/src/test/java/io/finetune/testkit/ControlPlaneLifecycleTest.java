package io.finetune.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bare plane (etcd + apiserver): its kubeconfig works for an ordinary client, and close() leaves nothing behind. */
class ControlPlaneLifecycleTest {
    @TempDir
    Path tmp;

    @Test
    void kubeconfigWorksAndCloseStopsEveryProcessAndRemovesTheWorkDir() throws Exception {
        ControlPlane kube = ControlPlane.builder().start();
        List<ProcessHandle> procs;
        Path workDir = kube.workDir();
        try {
            procs = kube.processHandles();
            assertThat(procs).anySatisfy(h -> assertThat(h.info().command().orElse("")).endsWith("kube-apiserver"));
            assertThat(procs).anySatisfy(h -> assertThat(h.info().command().orElse("")).endsWith("etcd"));

            Path kubeconfig = kube.writeKubeconfig(tmp.resolve("kube/config"));
            try (KubernetesClient c = new KubernetesClientBuilder()
                    .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build()) {
                c.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("via-kubeconfig")
                        .endMetadata().build()).create();
                assertThat(kube.client().namespaces().withName("via-kubeconfig").get()).isNotNull();
            }
        } finally {
            kube.close();
        }
        for (ProcessHandle h : procs) {
            h.onExit().get();
        }
        assertThat(procs).noneMatch(ProcessHandle::isAlive);
        assertThat(workDir).doesNotExist();
    }
}
