package io.finetune.trainer.run;

import io.finetune.trainer.spec.RunSpec;
import io.finetune.trainer.storage.Scheme;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.storage.StorageUri;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Refuses, before anything is fetched or loaded, an output location that equals, contains or lies inside an input location
 * (model, tokenizer, dataset, eval dataset): training would then overwrite or add files among the base model's (seen:
 * model.safetensors replaced) or delete the data it reads. Locations are compared after normalisation: local schemes
 * (file://, pvc:// under the mounted root) by their real path with symlinks resolved, s3:// by bucket and key segments,
 * http(s):// by host and path, hf:// by repository, revision and path.
 */
public final class OutputSafety {

    private OutputSafety() {
    }

    /**
     * @param localPath the local path of a file:// or pvc:// URI (empty for remote schemes or an unmounted claim)
     * @param workDir   the local directory the trainer writes before publishing (may be null)
     */
    public static void check(RunSpec spec, Path workDir, Function<String, Optional<Path>> localPath) {
        Map<String, String> inputs = new LinkedHashMap<>();
        inputs.put("spec.model.source", spec.sources().model());
        inputs.put("spec.model.tokenizer", spec.sources().tokenizer());
        inputs.put("spec.dataset.source", spec.sources().dataset());
        inputs.put("spec.dataset.evalSource", spec.sources().evalDataset());
        String destination = spec.output().destination();
        Location dest = Location.of(destination, localPath);
        Location work = workDir == null ? null : Location.local(workDir);
        for (var in : inputs.entrySet()) {
            if (in.getValue() == null) {
                continue;
            }
            Location src = Location.of(in.getValue(), localPath);
            refuseOverlap("spec.output.destination '" + destination + "'", dest, in.getKey(), in.getValue(), src);
            if (work != null) {
                refuseOverlap("the output directory " + workDir, work, in.getKey(), in.getValue(), src);
            }
        }
    }

    private static void refuseOverlap(String outName, Location out, String field, String uri, Location in) {
        String relation = out.relationTo(in);
        if (relation != null) {
            throw new UnsafeOutputException(outName + " " + relation + " " + field + " '" + uri + "': training would write"
                    + " among the files it reads. Choose an output destination outside every model, tokenizer and dataset"
                    + " location.");
        }
    }

    /** A location as a comparable key (scheme-specific root) plus path segments. */
    record Location(String root, List<String> segments) {

        static Location of(String uri, Function<String, Optional<Path>> localPath) {
            StorageUri u = StorageUri.parse(uri);
            if (u.scheme() == Scheme.FILE || u.scheme() == Scheme.PVC) {
                Optional<Path> p;
                try {
                    p = localPath.apply(uri);
                } catch (StorageException e) {
                    p = Optional.empty();   // e.g. a claim not mounted here: compare claim + path instead
                }
                if (p.isPresent()) {
                    return local(p.get());
                }
            }
            return switch (u.scheme()) {
                case HTTP, HTTPS -> {
                    String rest = u.path();
                    int q = rest.indexOf('?');
                    rest = q < 0 ? rest : rest.substring(0, q);
                    int slash = rest.indexOf('/');
                    String host = (slash < 0 ? rest : rest.substring(0, slash)).toLowerCase(Locale.ROOT);
                    yield new Location("http://" + host, segments(slash < 0 ? "" : rest.substring(slash)));
                }
                case HF -> new Location("hf://" + u.authority() + "@" + u.revision().orElse("main"), segments(u.path()));
                default -> new Location(u.scheme().prefix() + "://" + u.authority(), segments(u.path()));
            };
        }

        /** The real path: the longest existing ancestor resolved through symlinks, the rest appended. */
        static Location local(Path path) {
            Path abs = path.toAbsolutePath().normalize();
            Path existing = abs;
            Path rest = null;
            while (existing != null && !Files.exists(existing)) {
                Path name = existing.getFileName();
                rest = rest == null ? name : name.resolve(rest);
                existing = existing.getParent();
            }
            Path real = abs;
            if (existing != null) {
                try {
                    real = existing.toRealPath();
                    real = rest == null ? real : real.resolve(rest);
                } catch (IOException e) {
                    real = abs;
                }
            }
            return new Location("local:", segments(real.toString()));
        }

        private static List<String> segments(String path) {
            List<String> out = new ArrayList<>();
            for (String s : path.split("/")) {
                if (s.isEmpty() || s.equals(".")) {
                    continue;
                }
                if (s.equals("..")) {
                    if (!out.isEmpty()) {
                        out.remove(out.size() - 1);
                    }
                    continue;
                }
                out.add(s);
            }
            return out;
        }

        /** "is", "contains" or "lies inside" when the locations overlap; null when they are disjoint. */
        String relationTo(Location input) {
            if (!root.equals(input.root)) {
                return null;
            }
            if (segments.equals(input.segments)) {
                return "is";
            }
            if (startsWith(input.segments, segments)) {
                return "contains";
            }
            if (startsWith(segments, input.segments)) {
                return "lies inside";
            }
            return null;
        }

        private static boolean startsWith(List<String> longer, List<String> prefix) {
            return longer.size() > prefix.size() && longer.subList(0, prefix.size()).equals(prefix);
        }
    }

    /** The output location overlaps an input location, or holds files this run did not write. */
    public static final class UnsafeOutputException extends RuntimeException {
        public UnsafeOutputException(String message) {
            super(message);
        }
    }
}
