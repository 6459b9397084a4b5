package io.finetune.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads a FineTuneJob manifest (YAML or JSON) strictly: unknown fields and wrong kinds are errors naming file and line. */
public final class FineTuneJobManifest {
    private static final ObjectMapper STRICT = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .findAndRegisterModules();

    private static final String KIND = "FineTuneJob";

    private FineTuneJobManifest() {
    }

    /** Parses and validates; throws {@link InvalidManifestException} listing every problem. */
    public static FineTuneJob read(Path file) throws IOException {
        String text = Files.readString(file);
        return parse(text, file.toString());
    }

    /** Parses and validates text; {@code origin} names the source in messages. */
    public static FineTuneJob parse(String text, String origin) {
        checkHeader(text, origin);
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

    /**
     * Exactly one YAML document, whose kind and apiVersion are FineTuneJob's. Checked on the tree before binding: the
     * resource class fills a missing kind with its own, and a Pod's fields would otherwise be reported as unknown ones.
     */
    private static void checkHeader(String text, String origin) {
        List<JsonNode> docs = new ArrayList<>();
        // Document by document (a MappingIterator would unwrap a top-level list into its elements).
        try (JsonParser parser = STRICT.getFactory().createParser(text)) {
            while (parser.nextToken() != null) {
                JsonNode doc = STRICT.readTree(parser);
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
        } catch (JsonProcessingException e) {
            throw new InvalidManifestException(origin + where(e.getLocation()) + ": not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidManifestException(origin + ": cannot read: " + e.getMessage());
        }
        if (docs.size() > 1) {
            throw new InvalidManifestException(origin + ": holds " + docs.size() + " YAML documents (separated by '---');"
                    + " a manifest must hold exactly one FineTuneJob: put each job in its own file");
        }
        if (docs.isEmpty()) {
            throw new InvalidManifestException(origin + ": empty manifest");
        }
        JsonNode doc = docs.get(0);
        if (!doc.isObject()) {
            throw new InvalidManifestException(origin + ": expected a FineTuneJob (a YAML mapping with apiVersion, kind,"
                    + " metadata and spec), got " + (doc.isArray() ? "a list" : "a scalar '" + doc.asText() + "'"));
        }
        JsonNode kind = doc.get("kind");
        if (kind == null || kind.isNull() || kind.asText().isBlank()) {
            throw new InvalidManifestException(origin + ": kind is missing: a FineTuneJob manifest starts with"
                    + " 'apiVersion: " + FineTuneJob.API_VERSION + "' and 'kind: FineTuneJob'");
        }
        if (!KIND.equals(kind.asText())) {
            throw new InvalidManifestException(origin + ": this is a " + kind.asText() + ", not a FineTuneJob (kind: "
                    + kind.asText() + "); the trainer runs FineTuneJob manifests (apiVersion " + FineTuneJob.API_VERSION + ")");
        }
        JsonNode apiVersion = doc.get("apiVersion");
        if (apiVersion == null || !FineTuneJob.API_VERSION.equals(apiVersion.asText())) {
            throw new InvalidManifestException(origin + ": apiVersion is " + (apiVersion == null ? "missing" : "'"
                    + apiVersion.asText() + "'") + "; a FineTuneJob has apiVersion " + FineTuneJob.API_VERSION);
        }
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
