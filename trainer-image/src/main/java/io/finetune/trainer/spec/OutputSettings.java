package io.finetune.trainer.spec;

import java.util.Objects;

/**
 * Where the output goes ({@code spec.output}).
 *
 * @param destination the output URI (file://, pvc://, s3://)
 * @param merge       adapter methods also write the base weights with the adapter folded in
 */
public record OutputSettings(String destination, boolean merge) {
    public OutputSettings {
        Objects.requireNonNull(destination, "spec.output.destination");
    }
}
