package io.finetune.trainer.storage;

import io.finetune.trainer.layout.RunLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoints a run publishes under {@code <destination>/checkpoints/step-N/} (layout: {@link RunLayout}): each one is
 * published manifest-last like an artifact, so "complete" means "has its manifest". Finds the newest complete one by
 * listing (no download), fetches it to resume, and prunes old ones, manifest first.
 */
final class RemoteCheckpoints {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteCheckpoints.class);

    private final Stores stores;
    private final Publisher publisher;
    private final SourceFetch fetch;

    RemoteCheckpoints(Stores stores, Publisher publisher, SourceFetch fetch) {
        this.stores = stores;
        this.publisher = publisher;
        this.fetch = fetch;
    }

    /** Publishes {@code localCheckpointDir} (named step-N) to {@code <destination>/checkpoints/step-N/}. */
    void publish(Path localCheckpointDir, String destinationUri) {
        OptionalLong step = RunLayout.stepOf(localCheckpointDir.getFileName().toString());
        if (step.isEmpty()) {
            throw new IllegalArgumentException("checkpoint directory must be named " + RunLayout.STEP_PREFIX + "<N>, got "
                    + localCheckpointDir);
        }
        publisher.publish(localCheckpointDir, StorageUri.parse(destinationUri).child(RunLayout.checkpointKey(step.getAsLong()))
                .raw());
    }

    /** The step of the newest complete checkpoint under {@code <destination>/checkpoints/}, from a listing only. */
    OptionalLong latestStep(String destinationUri) {
        OptionalLong best = OptionalLong.empty();
        for (RemoteFile f : stores.list(dir(destinationUri))) {
            Optional<RunLayout.CheckpointFile> c = RunLayout.checkpointFile(f.path());
            if (c.isPresent() && c.get().isManifest() && (best.isEmpty() || c.get().step() > best.getAsLong())) {
                best = OptionalLong.of(c.get().step());
            }
        }
        return best;
    }

    /** The newest complete checkpoint (highest N with a manifest), fetched locally. */
    Optional<Path> fetchLatest(String destinationUri) {
        StorageUri dir = dir(destinationUri);
        OptionalLong step = latestStep(destinationUri);
        if (step.isEmpty()) {
            LOG.info("No complete checkpoint under {}", dir);
            return Optional.empty();
        }
        StorageUri checkpoint = dir.child(RunLayout.checkpointName(step.getAsLong()));
        LOG.info("Resuming from checkpoint {}", checkpoint);
        return Optional.of(fetch.directory(checkpoint.raw()));
    }

    /**
     * Deletes all but the {@code keepLatest} newest complete checkpoints; incomplete ones older than the newest kept are
     * removed too. Each checkpoint's manifest goes first, so a reader never resumes from a half-deleted one. Returns the
     * names removed (step-N).
     */
    List<String> prune(String destinationUri, int keepLatest) {
        if (keepLatest < 1) {
            throw new IllegalArgumentException("keepLatest must be >= 1, got " + keepLatest);
        }
        StorageUri dir = dir(destinationUri);
        TreeMap<Long, List<String>> filesByStep = new TreeMap<>();
        Set<Long> complete = new HashSet<>();
        for (RemoteFile f : stores.list(dir)) {
            Optional<RunLayout.CheckpointFile> c = RunLayout.checkpointFile(f.path());
            if (c.isPresent()) {
                filesByStep.computeIfAbsent(c.get().step(), k -> new ArrayList<>()).add(c.get().file());
                if (c.get().isManifest()) {
                    complete.add(c.get().step());
                }
            }
        }
        List<Long> kept = complete.stream().sorted(Comparator.reverseOrder()).limit(keepLatest).toList();
        long oldestKept = kept.isEmpty() ? Long.MIN_VALUE : kept.get(kept.size() - 1);
        List<String> removed = new ArrayList<>();
        for (var e : filesByStep.entrySet()) {
            if (kept.contains(e.getKey()) || e.getKey() > oldestKept) {
                continue;   // kept, or newer than every kept one (possibly still being uploaded)
            }
            StorageUri stepDir = dir.child(RunLayout.checkpointName(e.getKey()));
            List<String> files = new ArrayList<>(e.getValue());
            files.sort(Comparator.comparing((String f) -> !f.equals(RunLayout.MANIFEST)));
            for (String f : files) {
                stores.delete(stepDir.child(f));
            }
            removed.add(RunLayout.checkpointName(e.getKey()));
        }
        if (!removed.isEmpty()) {
            LOG.info("Pruned checkpoints {} under {}", removed, dir);
        }
        return removed;
    }

    private static StorageUri dir(String destinationUri) {
        return StorageUri.parse(destinationUri).child(RunLayout.CHECKPOINTS);
    }
}
