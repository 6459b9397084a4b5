package io.finetune.api;

import com.fasterxml.jackson.annotation.JsonEnumDefaultValue;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.Artifact;
import io.finetune.api.v1alpha1.Execution;
import io.finetune.api.v1alpha1.MemoryUsage;
import io.finetune.api.v1alpha1.Metrics;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What the trainer pod reports when it exits, as the container's termination message (JSON, at most
 * {@link #MAX_BYTES} bytes: the kubelet truncates longer messages). The operator reads it from the pod's terminated
 * state and copies artifact, metrics and memory into the FineTuneJob status after checking them.
 *
 * @param outcome  Succeeded or Failed
 * @param reason   why it failed (Failed only)
 * @param message  one line for humans; on failure names the file/line or URI at fault
 * @param artifact the published result (Succeeded only)
 * @param metrics  final losses
 * @param memory   measured memory of the run
 * @param steps    optimizer steps done
 * @param execution the precision that ran and the device (a finished run only)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainerResult(Outcome outcome, Reason reason, String message, Artifact artifact, Metrics metrics,
                            MemoryUsage memory, Long steps, Execution execution) {
    /** The kubelet keeps at most 4096 bytes of a termination message. */
    public static final int MAX_BYTES = 4096;
    /**
     * Exit code of a trainer that stopped on SIGTERM after checkpointing (reason {@link Reason#Preempted}): sysexits.h's
     * EX_TEMPFAIL ("temporary failure, the user is invited to retry"), distinct from 1 (failed), 137 (SIGKILL, e.g. an
     * expired grace period or OOM) and 143 (SIGTERM's default action: died without a checkpoint).
     */
    public static final int PREEMPTED_EXIT_CODE = 75;

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_USING_DEFAULT_VALUE);

    /** How the run ended. */
    public enum Outcome { Succeeded, Failed }

    /** Why a run failed, as the trainer classifies it. Unknown values read as TrainerError. */
    public enum Reason {
        InvalidDataset, InvalidModel, StorageError, OutOfMemory,
        /** A setting cannot run as given (a learning rate that diverges, an impossible combination); the message names it. */
        InvalidSpec,
        /** A targetModules entry selects no linear module of the model; the message lists those that exist. */
        TargetModulesNotFound,
        /** The memory plan does not fit the device; the message gives the plan's figures and what would fit. */
        InsufficientGPUMemory,
        /** The run finished but missed spec.evaluation; its output is kept under rejected/, not published. */
        EvaluationGateFailed,
        /** Stopped by SIGTERM at a step boundary with a checkpoint: resumable, not a failure of the run. */
        Preempted,
        @JsonEnumDefaultValue
        TrainerError
    }

    public static TrainerResult succeeded(Artifact artifact, Metrics metrics, MemoryUsage memory, long steps) {
        return new TrainerResult(Outcome.Succeeded, null, null, artifact, metrics, memory, steps, null);
    }

    /** This result with what the run computed on (the trainer adds it to a finished run's result). */
    public TrainerResult withExecution(Execution ran) {
        return new TrainerResult(outcome, reason, message, artifact, metrics, memory, steps, ran);
    }

    /** Stopped on SIGTERM after {@code steps} optimizer steps, all of them in a checkpoint. */
    public static TrainerResult preempted(long steps, String message) {
        return new TrainerResult(Outcome.Failed, Reason.Preempted, oneLine(message), null, null, null, steps, null);
    }

    public static TrainerResult failed(Reason reason, String message) {
        return new TrainerResult(Outcome.Failed, reason, oneLine(message), null, null, null, null, null);
    }

    /** A finished run that missed spec.evaluation: the losses are recorded, no artifact is. */
    public static TrainerResult gateFailed(String message, Metrics metrics, MemoryUsage memory, long steps) {
        return new TrainerResult(Outcome.Failed, Reason.EvaluationGateFailed, oneLine(message), null, metrics, memory, steps, null);
    }

    /** JSON of at most {@link #MAX_BYTES} bytes: the message is shortened first, then memory, metrics and execution are dropped. */
    public String toJson() {
        TrainerResult r = new TrainerResult(outcome, reason, oneLine(message), artifact, metrics, memory, steps, execution);
        String json = write(r);
        while (bytes(json) > MAX_BYTES && r.message != null && r.message.length() > 16) {
            String m = r.message.substring(0, Math.max(16, r.message.length() - (bytes(json) - MAX_BYTES) - 8)) + "...";
            r = new TrainerResult(outcome, reason, m, artifact, metrics, memory, steps, execution);
            json = write(r);
        }
        if (bytes(json) > MAX_BYTES) {
            json = write(new TrainerResult(outcome, reason, r.message, artifact, null, null, steps, null));
        }
        return json;
    }

    /**
     * This result with its numbers made safe to copy into status: non-finite losses and a negative bestStep left out of
     * metrics, negative counts left out of memory, execution's names cut to one bounded line. The operator applies it to what a pod reports, the trainer before it
     * writes, since JSON has no NaN (Jackson would write the string "NaN", which the API server rejects for a number).
     */
    public TrainerResult sanitized() {
        return new TrainerResult(outcome, reason, message, artifact, finite(metrics), nonNegative(memory), steps,
                Execution.bounded(execution));
    }

    /** A copy with each non-finite loss, and a negative bestStep, left out; null for null. */
    public static Metrics finite(Metrics m) {
        if (m == null) {
            return null;
        }
        Metrics out = new Metrics();
        out.trainLoss = finite(m.trainLoss);
        out.evalLossBefore = finite(m.evalLossBefore);
        out.evalLossAfter = finite(m.evalLossAfter);
        out.bestStep = m.bestStep != null && m.bestStep >= 0 ? m.bestStep : null;
        return out;
    }

    /** The number, or null when it is null, NaN or infinite: the one finite-number filter of every status write. */
    public static Double finite(Double v) {
        return v != null && Double.isFinite(v) ? v : null;
    }

    /** A copy with each negative figure left out; null for null. */
    public static MemoryUsage nonNegative(MemoryUsage m) {
        if (m == null) {
            return null;
        }
        MemoryUsage out = new MemoryUsage();
        out.trainableParameters = nonNegative(m.trainableParameters);
        out.totalParameters = nonNegative(m.totalParameters);
        out.optimizerStateBytes = nonNegative(m.optimizerStateBytes);
        out.gradientBytes = nonNegative(m.gradientBytes);
        out.weightBytes = nonNegative(m.weightBytes);
        out.peakRssBytes = nonNegative(m.peakRssBytes);
        return out;
    }

    private static Long nonNegative(Long v) {
        return v != null && v >= 0 ? v : null;
    }

    /** Parses a termination message; empty when it is not a TrainerResult (e.g. the log tail of a crashed JVM). */
    public static Optional<TrainerResult> parse(String text) {
        if (text == null || !text.strip().startsWith("{")) {
            return Optional.empty();
        }
        try {
            TrainerResult r = JSON.readValue(text.strip(), TrainerResult.class);
            return r == null || r.outcome == null ? Optional.empty() : Optional.of(r);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String write(TrainerResult r) {
        try {
            return JSON.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("TrainerResult is not serialisable", e);
        }
    }

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String oneLine(String s) {
        return s == null ? null : s.replace('\r', ' ').replace('\n', ' ').strip();
    }
}
