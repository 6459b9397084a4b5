package io.finetune.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;

/**
 * Command lines of the control-plane processes (flags valid for Kubernetes 1.20 / etcd 3.4). Everything listens on
 * 127.0.0.1 only, on free ports, so several planes (parallel test JVMs, other users of the machine) never collide.
 */
final class Components {
    /** Issuer and audience of service-account tokens (what an in-cluster client presents). */
    static final String SA_ISSUER = "https://kubernetes.default.svc.cluster.local";

    private Components() {
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    static List<String> etcd(KubeBinaries bin, Path dataDir, int clientPort, int peerPort) {
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        return List.of(bin.etcd().toString(),
                "--name=default",
                "--data-dir=" + dataDir,
                "--listen-client-urls=" + client,
                "--advertise-client-urls=" + client,
                "--listen-peer-urls=" + peer,
                "--initial-advertise-peer-urls=" + peer,
                "--initial-cluster=default=" + peer,
                "--log-level=warn");
    }

    static List<String> apiServer(KubeBinaries bin, Pki pki, Path tokenFile, Path certDir, int etcdPort, int port) {
        return List.of(bin.apiServer().toString(),
                "--etcd-servers=http://127.0.0.1:" + etcdPort,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=" + port,
                "--insecure-port=0",
                "--cert-dir=" + certDir,
                "--tls-cert-file=" + pki.servingCert(),
                "--tls-private-key-file=" + pki.servingKey(),
                "--token-auth-file=" + tokenFile,
                // RBAC only: the point of the tier is to check least-privilege rules for real.
                "--authorization-mode=RBAC",
                "--service-account-key-file=" + pki.saPublicKey(),
                "--service-account-signing-key-file=" + pki.saPrivateKey(),
                "--service-account-issuer=" + SA_ISSUER,
                "--api-audiences=" + SA_ISSUER,
                "--service-cluster-ip-range=10.96.0.0/16",
                // The 'kubernetes' Service endpoint would be 127.0.0.1, which Endpoints validation rejects (log noise).
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--enable-priority-and-fairness=false",
                "--profiling=false");
    }

    /** Job, garbage-collector, service-account (+ token), node-lifecycle ... controllers: the default set. */
    static List<String> controllerManager(KubeBinaries bin, Pki pki, Path kubeconfig, int healthPort) {
        return List.of(bin.controllerManager().toString(),
                "--kubeconfig=" + kubeconfig,
                "--leader-elect=false",
                "--controllers=*",
                "--service-account-private-key-file=" + pki.saPrivateKey(),
                "--root-ca-file=" + pki.servingCert(),
                // Plain-HTTP health port on loopback; no secure port (it would need delegated authn setup).
                "--address=127.0.0.1",
                "--port=" + healthPort,
                "--secure-port=0",
                "--profiling=false");
    }

    static List<String> scheduler(KubeBinaries bin, Path kubeconfig, int healthPort) {
        return List.of(bin.scheduler().toString(),
                "--kubeconfig=" + kubeconfig,
                "--leader-elect=false",
                "--address=127.0.0.1",
                "--port=" + healthPort,
                "--secure-port=0",
                "--profiling=false");
    }
}
