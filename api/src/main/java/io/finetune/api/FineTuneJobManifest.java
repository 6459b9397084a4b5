package io.finetune.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads a FineTuneJob manifest (YAML or JSON) strictly: unknown fields and wrong kinds are errors naming file and line. */
public final class FineTuneJobManifest {
    private static final ObjectMapper STRICT = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .findAndRegisterModules();

    private FineTuneJobManifest() {
    }

    /** Parses and validates; throws {@link InvalidManifestException} listing every problem. */
    public static FineTuneJob read(Path file) throws IOException {
        String text = Files.readString(file);
        return parse(text, file.toString());
    }

    /** Parses and validates text; {@code origin} names the source in messages. */
    public static FineTuneJob parse(String text, String origin) {
        FineTuneJob job;
        try {
            job = STRICT.readValue(text, FineTuneJob.class);
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidManifestException(origin + where(e.getLocation()) + ": unknown field '"
                    + e.getPropertyName() + "' at " + path(e) + " (known: " + e.getKnownPropertyIds() + ")");
        } catch (JsonProcessingException e) {
            throw new InvalidManifestException(origin + where(e.getLocation()) + ": " + e.getOriginalMessage()
                    + (e instanceof com.fasterxml.jackson.databind.JsonMappingException m ? " at " + path(m) : ""));
        }
        if (job == null) {
            throw new InvalidManifestException(origin + ": empty manifest");
        }
        if (!FineTuneJob.API_VERSION.equals(job.getApiVersion()) || !"FineTuneJob".equals(job.getKind())) {
            throw new InvalidManifestException(origin + ": expected apiVersion " + FineTuneJob.API_VERSION
                    + " and kind FineTuneJob, got " + job.getApiVersion() + " " + job.getKind());
        }
        if (job.getMetadata() == null || job.getMetadata().getName() == null || job.getMetadata().getName().isBlank()) {
            throw new InvalidManifestException(origin + ": metadata.name is required");
        }
        List<Violation> violations = FineTuneJobValidator.validate(job.getSpec());
        if (!violations.isEmpty()) {
            StringBuilder sb = new StringBuilder(origin).append(": invalid FineTuneJob '").append(job.getMetadata().getName()).append("'");
            violations.forEach(v -> sb.append("\n  ").append(v));
            throw new InvalidManifestException(sb.toString(), violations);
        }
        return job;
    }

    private static String where(JsonLocation loc) {
        return loc == null || loc.getLineNr() < 1 ? "" : ":" + loc.getLineNr();
    }

    private static String path(com.fasterxml.jackson.databind.JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (var ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "(top level)" : sb.toString();
    }

    /** A manifest that cannot be read or run; the message names the file, line or field. */
    public static final class InvalidManifestException extends IllegalArgumentException {
        private final transient List<Violation> violations;

        public InvalidManifestException(String message) {
            this(message, List.of());
        }

        public InvalidManifestException(String message, List<Violation> violations) {
            super(message);
            this.violations = List.copyOf(violations);
        }

        public List<Violation> violations() {
            return violations;
        }
    }
}
