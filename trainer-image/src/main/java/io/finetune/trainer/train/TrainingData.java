package io.finetune.trainer.train;

import io.finetune.trainer.data.Batch;
import io.finetune.trainer.data.BatchSource;
import io.finetune.trainer.data.DataStats;
import java.util.List;

/**
 * What a {@link Trainer} trains and evaluates on.
 *
 * @param train the training micro-batches, in an order fixed by (seed, epoch)
 * @param eval  the held-out batches (may be empty: the eval loss is then NaN)
 * @param stats what the data pipeline did, reported in the summary as it is; null when the batches were built by hand
 */
public record TrainingData(BatchSource train, List<Batch> eval, DataStats stats) {
    public TrainingData {
        eval = List.copyOf(eval);
    }
}
