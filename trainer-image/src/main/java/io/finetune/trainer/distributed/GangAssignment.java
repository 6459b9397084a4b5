package io.finetune.trainer.distributed;

import io.finetune.api.TrainerContract.Env;
import io.finetune.api.TrainerContract.Gang;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * A gang pod's place in the run, as the operator assigns it: the pods of one Job have no index on a 1.20 API server, so
 * once every pod of an attempt runs the operator writes each its rank and rank 0's IP as annotations ({@link Gang}); the
 * kubelet mirrors them into the downward-API file named by {@link Env#PODINFO}, updating it live. This waits (bounded:
 * the collective timeout) until both appear and turns them into Kubeflow Trainer's {@code PET_NODE_RANK} and
 * {@code PET_MASTER_ADDR}, which {@link NodeTopology} reads like any launcher's.
 */
public final class GangAssignment {
    static final Duration POLL = Duration.ofMillis(200);

    private GangAssignment() {
    }

    /** True when this pod must wait for its rank: a podinfo file is named and no launcher set the node rank already. */
    public static boolean needed(Map<String, String> env) {
        return present(env, Env.PODINFO) && !present(env, Env.PET_NODE_RANK);
    }

    /**
     * {@code env} with {@code PET_NODE_RANK} and {@code PET_MASTER_ADDR} from the podinfo file; empty when {@code stopped}
     * turned true first (SIGTERM while waiting).
     *
     * @throws IllegalArgumentException naming the file and the annotations when they did not appear within {@code timeout}
     */
    public static Optional<Map<String, String>> await(Map<String, String> env, Duration timeout, BooleanSupplier stopped)
            throws InterruptedException {
        Path file = Path.of(env.get(Env.PODINFO));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, String> annotations = read(file);
            String rank = annotations.get(Gang.RANK);
            String master = annotations.get(Gang.MASTER_ADDR);
            if (rank != null && master != null && !master.isBlank()) {
                Map<String, String> out = new HashMap<>(env);
                out.put(Env.PET_NODE_RANK, rank.trim());
                out.put(Env.PET_MASTER_ADDR, master.trim());
                return Optional.of(out);
            }
            if (stopped.getAsBoolean()) {
                return Optional.empty();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalArgumentException(file + " (" + Env.PODINFO + ") got no " + Gang.RANK + " and " + Gang.MASTER_ADDR
                        + " annotations within " + timeout.toSeconds() + " s: the operator assigns them once all "
                        + env.getOrDefault(Env.PET_NNODES, "?") + " pods of the gang run (spec.resources.collectiveTimeoutSeconds)");
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** The annotations in {@code file}; empty while it does not exist yet. */
    static Map<String, String> read(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException e) {
            return Map.of();   // the kubelet swaps the file atomically (a symlink); read again at the next poll
        }
    }

    /**
     * The downward API's format: one {@code key="value"} per line, the value quoted as Go's strconv.Quote does
     * (backslash escapes). Lines that do not fit are skipped.
     */
    static Map<String, String> parse(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String value = line.substring(eq + 1).trim();
            if (value.length() < 2 || value.charAt(0) != '"' || value.charAt(value.length() - 1) != '"') {
                continue;
            }
            out.put(line.substring(0, eq).trim(), unquote(value.substring(1, value.length() - 1)));
        }
        return out;
    }

    private static String unquote(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                b.append(c);
                continue;
            }
            char n = s.charAt(++i);
            b.append(switch (n) {
                case 'n' -> '\n';
                case 't' -> '\t';
                case 'r' -> '\r';
                default -> n;   // \" and \\ (and anything else) stand for themselves
            });
        }
        return b.toString();
    }

    private static boolean present(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }
}
