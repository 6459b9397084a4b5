package io.finetune.trainer.spec;

import java.util.Objects;

/**
 * Where a run reads from, as URIs (file://, pvc://, s3://, https://, hf://).
 *
 * @param model       the model directory ({@code spec.model.source})
 * @param tokenizer   {@code spec.model.tokenizer}, or null when the tokenizer files sit with the model
 * @param dataset     the training JSONL ({@code spec.dataset.source})
 * @param evalDataset the held-out JSONL ({@code spec.dataset.evalSource}), or null: a split of the training file
 */
public record Sources(String model, String tokenizer, String dataset, String evalDataset) {
    public Sources {
        Objects.requireNonNull(model, "spec.model.source");
        Objects.requireNonNull(dataset, "spec.dataset.source");
    }

    /** The tokenizer's location: its own, or the model's. */
    public String tokenizerOrModel() {
        return tokenizer != null ? tokenizer : model;
    }
}
