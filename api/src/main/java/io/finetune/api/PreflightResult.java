package io.finetune.api;

import com.fasterxml.jackson.annotation.JsonEnumDefaultValue;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.finetune.api.v1alpha1.PreflightStatus;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What the preflight pod reports as its termination message (JSON, at most {@link TrainerResult#MAX_BYTES} bytes): the
 * verdict, why it failed, and the figures the operator copies into status.preflight.
 *
 * @param passed  whether the GPU Job may be created
 * @param reason  why not (passed false only)
 * @param message one line: the file:line, module names or plan figures at fault
 * @param report  records, tokens, planned bytes, fit
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record PreflightResult(boolean passed, Reason reason, String message, PreflightStatus report) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_USING_DEFAULT_VALUE);
    static final int MAX_MESSAGE = 2048;

    /** Why a preflight failed; each is also the FineTuneJob's Failed reason. Unknown values read as PreflightError. */
    public enum Reason {
        /** A record breaks the record policies (message: file:line + reason). */
        InvalidDataset,
        /** A targetModules entry matches no module of the model (message lists the existing names). */
        TargetModulesNotFound,
        /** The memory plan does not fit the GPU (message: the plan's figures and what would fit). */
        InsufficientGPUMemory,
        /** A source or the destination cannot be reached with the given credentials. */
        StorageError,
        /** config.json or the tokenizer cannot be used. */
        InvalidModel,
        @JsonEnumDefaultValue
        PreflightError
    }

    public static PreflightResult passed(String message, PreflightStatus report) {
        return new PreflightResult(true, null, message, report);
    }

    public static PreflightResult failed(Reason reason, String message, PreflightStatus report) {
        return new PreflightResult(false, reason, message, report);
    }

    /** JSON of at most {@link TrainerResult#MAX_BYTES} bytes (the message is shortened first). */
    public String toJson() {
        String m = message == null ? null : message.replace('\r', ' ').replace('\n', ' ').strip();
        if (m != null && m.length() > MAX_MESSAGE) {
            m = m.substring(0, MAX_MESSAGE) + "...";
        }
        String json = write(new PreflightResult(passed, reason, m, report));
        if (json.getBytes(StandardCharsets.UTF_8).length > TrainerResult.MAX_BYTES) {
            json = write(new PreflightResult(passed, reason, m == null ? null : m.substring(0, Math.min(m.length(), 512)), null));
        }
        return json;
    }

    /** Parses a termination message; empty when it is not a PreflightResult (e.g. a crashed JVM's log tail). */
    public static Optional<PreflightResult> parse(String text) {
        if (text == null || !text.strip().startsWith("{")) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(JSON.readValue(text.strip(), PreflightResult.class));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String write(PreflightResult r) {
        try {
            return JSON.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("PreflightResult is not serialisable", e);
        }
    }
}
