package io.finetune.api;

/**
 * One reason a FineTuneJob spec cannot run.
 *
 * @param field   JSON path of the offending field, e.g. {@code spec.method.lora.rank}
 * @param message what is wrong and what is allowed, naming the field
 */
public record Violation(String field, String message) {
    @Override
    public String toString() {
        return field + ": " + message;
    }
}
