package io.finetune.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the control-plane binaries built by {@code hack/kube-binaries.sh} live: {@code $FINETUNE_KUBE_BIN}, else
 * {@code ~/.cache/finetune-kube/1.20.2/bin}. The directory must hold {@code etcd}, {@code kube-apiserver},
 * {@code kube-controller-manager} and {@code kube-scheduler}; {@code openssl} must be on the PATH (certificates).
 */
public record KubeBinaries(Path dir) {
    /** Environment variable naming the binaries directory. */
    public static final String BIN_ENV = "FINETUNE_KUBE_BIN";
    /** When {@code true}, missing binaries fail the test instead of skipping it (CI sets this). */
    public static final String REQUIRE_ENV = "FINETUNE_REQUIRE_CONTROL_PLANE";
    /** The Kubernetes version hack/kube-binaries.sh builds. */
    public static final String KUBE_VERSION = "1.20.2";

    private static final List<String> REQUIRED = List.of("etcd", "kube-apiserver", "kube-controller-manager",
            "kube-scheduler");

    public Path etcd() {
        return dir.resolve("etcd");
    }

    public Path apiServer() {
        return dir.resolve("kube-apiserver");
    }

    public Path controllerManager() {
        return dir.resolve("kube-controller-manager");
    }

    public Path scheduler() {
        return dir.resolve("kube-scheduler");
    }

    /** {@code $FINETUNE_KUBE_BIN}, else the cache directory hack/kube-binaries.sh fills by default. */
    public static Path configuredDir() {
        String env = System.getenv(BIN_ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "finetune-kube", KUBE_VERSION, "bin");
    }

    /** The binaries, when all are present and executable. */
    public static Optional<KubeBinaries> find() {
        return missing().isEmpty() ? Optional.of(new KubeBinaries(configuredDir())) : Optional.empty();
    }

    /**
     * The binaries, or: the calling JUnit test is aborted (reported as skipped) with a message saying how to build them;
     * or, when {@code FINETUNE_REQUIRE_CONTROL_PLANE=true}, an {@link IllegalStateException} fails it.
     */
    public static KubeBinaries requireOrSkip() {
        List<String> missing = missing();
        if (missing.isEmpty()) {
            return new KubeBinaries(configuredDir());
        }
        String msg = "real control plane unavailable: missing " + String.join(", ", missing)
                + " (build them with hack/kube-binaries.sh, or point " + BIN_ENV + " at them)";
        if (Boolean.parseBoolean(System.getenv(REQUIRE_ENV))) {
            throw new IllegalStateException(msg + "; failing because " + REQUIRE_ENV + "=true");
        }
        Assumptions.abort(msg);
        throw new AssertionError("unreachable");
    }

    private static List<String> missing() {
        Path dir = configuredDir();
        List<String> missing = new ArrayList<>();
        for (String name : REQUIRED) {
            if (!Files.isExecutable(dir.resolve(name))) {
                missing.add(dir.resolve(name).toString());
            }
        }
        if (!onPath("openssl")) {
            missing.add("openssl on the PATH");
        }
        return missing;
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }
}
