package io.finetune.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a one-context kubeconfig with a bearer token (kubectl, client libraries and the control plane's own components). */
final class Kubeconfig {
    private Kubeconfig() {
    }

    static Path write(Path file, String serverUrl, Path caCert, String token, String namespace) {
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: finetune-testkit
                  cluster:
                    server: %s
                    certificate-authority: %s
                users:
                - name: finetune-testkit-user
                  user:
                    token: %s
                contexts:
                - name: finetune-testkit
                  context:
                    cluster: finetune-testkit
                    user: finetune-testkit-user
                    namespace: %s
                current-context: finetune-testkit
                """.formatted(serverUrl, caCert.toAbsolutePath(), token, namespace);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, yaml);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write kubeconfig " + file, e);
        }
    }
}
