package io.finetune.operator.status;

import io.finetune.api.ArtifactFormat;
import io.finetune.api.TrainerResult;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.Execution;
import io.finetune.api.v1alpha1.MemoryUsage;
import io.finetune.api.v1alpha1.Metrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Turns a trainer pod's termination message into status fields without trusting it: the digest must be
 * sha256:&lt;64 hex&gt;, the artifact must live under spec.output.destination, numbers must be finite and non-negative,
 * strings are bounded. A message that is not a TrainerResult (a crashed JVM's log tail) is kept as text.
 */
public final class TrainerReport {
    static final Pattern DIGEST = Pattern.compile("^sha256:[a-f0-9]{64}$");
    static final int MAX_TEXT = 512;

    /** A usable success report, or why it is not usable. */
    public record Success(Artifact artifact, Metrics metrics, MemoryUsage memory, Execution execution, String problem) {
    }

    private TrainerReport() {
    }

    /** Reads a Succeeded report; problem != null when the artifact cannot be recorded. */
    public static Success success(String terminationMessage, String destination) {
        Optional<TrainerResult> parsed = TrainerResult.parse(terminationMessage);
        if (parsed.isEmpty() || parsed.get().outcome() != TrainerResult.Outcome.Succeeded) {
            return new Success(null, null, null, null, "the trainer exited 0 without a Succeeded result in its termination message");
        }
        TrainerResult r = parsed.get();
        Artifact a = r.artifact();
        if (a == null) {
            return new Success(null, null, null, null, "the trainer's result has no artifact");
        }
        if (a.digest == null || !DIGEST.matcher(a.digest).matches()) {
            return new Success(null, null, null, null, "the trainer reported artifact digest '" + clip(a.digest)
                    + "', not sha256:<64 lowercase hex>");
        }
        if (a.uri == null || destination == null || !(a.uri.equals(destination) || a.uri.startsWith(stripSlash(destination) + "/"))) {
            return new Success(null, null, null, null, "the trainer reported artifact uri '" + clip(a.uri)
                    + "' outside spec.output.destination '" + destination + "'");
        }
        if (a.sizeBytes == null || a.sizeBytes < 0) {
            return new Success(null, null, null, null, "the trainer reported artifact size " + a.sizeBytes);
        }
        Artifact clean = new Artifact();
        clean.uri = a.uri;
        clean.digest = a.digest;
        clean.sizeBytes = a.sizeBytes;
        clean.format = ArtifactFormat.fromWireName(a.format).map(ArtifactFormat::wireName).orElse(null);
        if (a.servableBy != null) {
            List<String> servable = new ArrayList<>();
            a.servableBy.stream().filter(s -> s != null && s.matches("[A-Za-z0-9._-]{1,32}")).limit(8).forEach(servable::add);
            clean.servableBy = servable;
        }
        clean.servingNote = a.servingNote == null ? null : clip(a.servingNote);
        TrainerResult safe = r.sanitized();
        return new Success(clean, safe.metrics(), safe.memory(), safe.execution(), null);
    }

    /**
     * A completed pod's verdict that the run missed spec.evaluation: metrics and memory (checked like a success's) with the
     * trainer's message as {@code problem}; empty for any other message.
     */
    public static Optional<Success> gateFailed(String terminationMessage) {
        Optional<TrainerResult> parsed = TrainerResult.parse(terminationMessage);
        if (parsed.isEmpty() || parsed.get().outcome() != TrainerResult.Outcome.Failed
                || parsed.get().reason() != TrainerResult.Reason.EvaluationGateFailed) {
            return Optional.empty();
        }
        TrainerResult r = parsed.get().sanitized();
        return Optional.of(new Success(null, r.metrics(), r.memory(), r.execution(),
                clip(r.message() == null ? "the evaluation gate was not met" : r.message())));
    }

    /** One line describing a failed pod from its termination message: the trainer's reason and message, or the log tail. */
    public static Optional<String> failure(String terminationMessage) {
        if (terminationMessage == null || terminationMessage.isBlank()) {
            return Optional.empty();
        }
        Optional<TrainerResult> parsed = TrainerResult.parse(terminationMessage);
        if (parsed.isPresent() && parsed.get().outcome() == TrainerResult.Outcome.Failed) {
            TrainerResult r = parsed.get();
            String reason = r.reason() == null ? TrainerResult.Reason.TrainerError.name() : r.reason().name();
            return Optional.of(reason + ": " + clip(r.message() == null ? "(no message)" : r.message()));
        }
        if (parsed.isPresent()) {
            return Optional.empty();
        }
        // FallbackToLogsOnError: the message is the tail of the log; its last non-empty line is the most telling.
        String[] lines = terminationMessage.strip().split("\\R");
        return Optional.of(clip(lines[lines.length - 1].strip()));
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    static String clip(String s) {
        if (s == null) {
            return null;
        }
        String one = s.replace('\n', ' ').replace('\r', ' ');
        return one.length() <= MAX_TEXT ? one : one.substring(0, MAX_TEXT) + "...";
    }
}
