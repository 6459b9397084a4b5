package io.finetune.trainer.pod;

import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.Metrics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the trainer's result as the container's termination message: compact JSON of at most
 * {@link TrainerResult#MAX_BYTES} bytes, which the kubelet copies into the pod's terminated state and the operator
 * into the FineTuneJob status. The message is redacted before it is written, because that status is readable by anyone
 * who can read the job.
 */
public final class TerminationLog {
    private static final Logger LOG = LoggerFactory.getLogger(TerminationLog.class);

    private final Path path;
    private final SecretRedactor redactor;

    public TerminationLog(Path path, SecretRedactor redactor) {
        this.path = path;
        this.redactor = redactor;
    }

    /** A failed result with a one-line, redacted message built from the exception (and its causes, if they add words). */
    public TrainerResult failure(TrainerResult.Reason reason, Throwable error) {
        return TrainerResult.failed(reason, redactor.redact(describe(error)));
    }

    /**
     * Writes the result, replacing any previous content. Never throws: a trainer that cannot write its termination
     * message still exits with its own status, and the operator falls back to the log tail
     * (terminationMessagePolicy FallbackToLogsOnError), so the JSON also goes to stdout in that case.
     *
     * @return the JSON written
     */
    public String write(TrainerResult result) {
        String json = render(result);
        try {
            Files.writeString(path, json, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot write termination message to {}: {}; result follows on stdout", path, e.toString());
            PrintStream out = System.out;
            out.println(json);
            out.flush();
        }
        return json;
    }

    /**
     * The JSON for a result: message redacted and made one line, at most {@link TrainerResult#MAX_BYTES} bytes. A diverged
     * run has NaN losses; JSON has no NaN, so a non-finite loss is left out ({@link TrainerResult#finite(Metrics)}).
     */
    String render(TrainerResult result) {
        TrainerResult safe = new TrainerResult(result.outcome(), result.reason(), redactor.redact(result.message()),
                redactArtifactUri(result), TrainerResult.finite(result.metrics()), result.memory(), result.steps(),
                result.execution());
        String json = safe.toJson();
        if (json.getBytes(StandardCharsets.UTF_8).length <= TrainerResult.MAX_BYTES) {
            return json;
        }
        // Only an absurdly long artifact URI gets here; a truncated URI would point at the wrong place, so say so instead.
        int uriLength = safe.artifact() == null || safe.artifact().uri == null ? 0 : safe.artifact().uri.length();
        return TrainerResult.failed(TrainerResult.Reason.TrainerError, "result does not fit the " + TrainerResult.MAX_BYTES
                + "-byte termination message (artifact URI is " + uriLength + " characters)").toJson();
    }

    private Artifact redactArtifactUri(TrainerResult result) {
        Artifact a = result.artifact();
        if (a == null || a.uri == null) {
            return a;
        }
        Artifact copy = new Artifact();
        copy.uri = redactor.redact(a.uri);
        copy.digest = a.digest;
        copy.sizeBytes = a.sizeBytes;
        copy.format = a.format;
        copy.servableBy = a.servableBy;
        copy.servingNote = a.servingNote;
        return copy;
    }

    /** "Type: message; caused by: message" on one line; causes whose message is already included are skipped. */
    static String describe(Throwable error) {
        if (error == null) {
            return "unknown error";
        }
        StringBuilder sb = new StringBuilder();
        Throwable t = error;
        for (int depth = 0; t != null && depth < 5; depth++, t = t.getCause()) {
            String m = t.getMessage();
            String part = m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
            if (depth == 0 && (m == null || m.isBlank() || t instanceof Error)) {
                part = t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
            }
            if (sb.indexOf(part) >= 0) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append("; caused by: ");
            }
            sb.append(part);
        }
        return sb.toString().replaceAll("\\s+", " ").strip();
    }
}
