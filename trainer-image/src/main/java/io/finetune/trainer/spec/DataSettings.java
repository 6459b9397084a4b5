package io.finetune.trainer.spec;

import io.finetune.api.v1alpha1.DatasetFormat;
import io.finetune.api.v1alpha1.RecordPolicy;
import java.util.Objects;

/**
 * How the dataset is read, split and batched ({@code spec.dataset}, defaults applied).
 *
 * @param format          the record format, or null: detected from the first record
 * @param evalFraction    share of the training records held out when there is no eval file
 * @param maxSeqLength    tokens per example (longer records follow {@code overlongRecords})
 * @param packing         several short examples per row
 * @param invalidRecords  what a malformed record does: Fail or Skip
 * @param overlongRecords what a record longer than maxSeqLength does: Fail, Skip or Truncate
 */
public record DataSettings(DatasetFormat format, double evalFraction, int maxSeqLength, boolean packing,
                           RecordPolicy invalidRecords, RecordPolicy overlongRecords) {
    public DataSettings {
        if (!(evalFraction >= 0 && evalFraction < 1)) {
            throw new IllegalArgumentException("spec.dataset.evalFraction must be in [0, 1), got " + evalFraction);
        }
        if (maxSeqLength < 2) {
            throw new IllegalArgumentException("spec.dataset.maxSeqLength must be at least 2, got " + maxSeqLength);
        }
        Objects.requireNonNull(invalidRecords, "spec.dataset.invalidRecords");
        Objects.requireNonNull(overlongRecords, "spec.dataset.overlongRecords");
    }
}
