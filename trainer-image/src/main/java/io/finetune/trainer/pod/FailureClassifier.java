package io.finetune.trainer.pod;

import io.finetune.api.TrainerResult;
import io.finetune.trainer.data.DatasetException;
import io.finetune.trainer.io.SafetensorsException;
import io.finetune.trainer.model.ModelException;
import io.finetune.trainer.run.OutputSafety;
import io.finetune.trainer.storage.StorageException;
import java.util.function.Function;

/**
 * Maps a failed run's exception to the reason the operator records (TrainerResult.Reason), by the trainer's own exception
 * types anywhere in the cause chain. Out-of-memory is recognised by {@link PodRunner} itself.
 */
public final class FailureClassifier implements Function<Throwable, TrainerResult.Reason> {

    @Override
    public TrainerResult.Reason apply(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof DatasetException) {
                return TrainerResult.Reason.InvalidDataset;
            }
            if (t instanceof StorageException || t instanceof OutputSafety.UnsafeOutputException) {
                return TrainerResult.Reason.StorageError;
            }
            if (t instanceof SafetensorsException || t instanceof ModelException) {
                return TrainerResult.Reason.InvalidModel;
            }
        }
        return TrainerResult.Reason.TrainerError;
    }
}
