package io.finetune.e2e;

import io.fabric8.kubernetes.api.model.DownwardAPIVolumeFile;
import io.fabric8.kubernetes.api.model.DownwardAPIVolumeSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.finetune.testkit.BoundPod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * A pod's downwardAPI volume as a kubelet projects it: each item's file holds the pod field it names, and the kubelet
 * keeps the files current while the pod runs (a gang pod waits there for the rank annotations the operator patches in).
 * metadata.annotations and metadata.labels are written in the kubelet's format: {@code key="value"} lines sorted by key,
 * the value quoted as Go's {@code %q} does, no newline after the last line. Files are replaced atomically (the kubelet
 * swaps a symlink), so a reader never sees half a file. Refreshed by polling the API server, on a daemon thread, until
 * {@link #close}.
 */
final class DownwardApiFiles implements AutoCloseable {
    /** How often the pod is read again (a kubelet syncs on every pod update it watches; this is close enough here). */
    static final Duration POLL = Duration.ofMillis(200);

    private final BoundPod bound;
    private final DownwardAPIVolumeSource source;
    private final Path dir;
    private final Thread refresher;
    private volatile Map<String, String> annotations = Map.of();
    private volatile boolean closed;

    private DownwardApiFiles(BoundPod bound, DownwardAPIVolumeSource source, Path dir) {
        this.bound = bound;
        this.source = source;
        this.dir = dir;
        this.refresher = new Thread(this::refreshUntilClosed, "downward-api-" + bound.name());
        this.refresher.setDaemon(true);
    }

    /** Writes the files from the pod as stored now and starts keeping them current. */
    static DownwardApiFiles start(BoundPod bound, DownwardAPIVolumeSource source, Path dir) {
        DownwardApiFiles files = new DownwardApiFiles(bound, source, dir);
        Pod now = bound.current();
        files.write(now != null ? now : bound.pod());
        files.refresher.start();
        return files;
    }

    /** The pod's annotations as last projected (what the container could read last). */
    Map<String, String> annotations() {
        return annotations;
    }

    private void refreshUntilClosed() {
        while (!closed && !bound.isDeleted()) {
            try {
                Thread.sleep(POLL.toMillis());
                Pod pod = bound.current();
                if (pod != null) {
                    write(pod);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // an API server hiccup (or the pod went away): the next poll tries again, as a kubelet resyncs
            }
        }
    }

    private synchronized void write(Pod pod) {
        Map<String, String> a = pod.getMetadata().getAnnotations();
        annotations = a == null ? Map.of() : Map.copyOf(a);
        for (DownwardAPIVolumeFile item : source.getItems()) {
            String content = content(pod, item);
            Path file = dir.resolve(item.getPath());
            try {
                if (Files.isRegularFile(file) && Files.readString(file).equals(content)) {
                    continue;
                }
                Files.createDirectories(file.getParent());
                Path tmp = Files.writeString(file.resolveSibling("." + file.getFileName() + ".tmp"), content);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static String content(Pod pod, DownwardAPIVolumeFile item) {
        if (item.getFieldRef() == null) {
            throw new IllegalStateException("pod " + pod.getMetadata().getName() + ": downwardAPI item " + item.getPath()
                    + " is not a fieldRef; this kubelet projects metadata fields only");
        }
        String path = item.getFieldRef().getFieldPath();
        return switch (path) {
            case "metadata.annotations" -> formatMap(pod.getMetadata().getAnnotations());
            case "metadata.labels" -> formatMap(pod.getMetadata().getLabels());
            case "metadata.name" -> pod.getMetadata().getName();
            case "metadata.namespace" -> pod.getMetadata().getNamespace();
            case "metadata.uid" -> pod.getMetadata().getUid();
            default -> throw new IllegalStateException("pod " + pod.getMetadata().getName() + ": downwardAPI fieldRef " + path
                    + " is not projected by this kubelet");
        };
    }

    /** The kubelet's FormatMap: {@code key="value"} per line, sorted by key, no trailing newline. */
    static String formatMap(Map<String, String> map) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : new TreeMap<>(map == null ? Map.of() : map).entrySet()) {
            if (b.length() > 0) {
                b.append('\n');
            }
            b.append(e.getKey()).append('=').append(quote(e.getValue()));
        }
        return b.toString();
    }

    /** Go's strconv.Quote for the characters annotations hold: backslash escapes for quotes, backslashes and controls. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    @Override
    public void close() {
        closed = true;
        refresher.interrupt();
    }
}
