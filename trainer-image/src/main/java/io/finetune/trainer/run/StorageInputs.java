package io.finetune.trainer.run;

import io.finetune.api.v1alpha1.FineTuneJobSpec;
import io.finetune.trainer.storage.Storage;
import io.finetune.trainer.storage.StorageException;
import io.finetune.trainer.train.Inputs;
import java.nio.file.Path;

/** Resolves a job's sources through {@link Storage}: remote ones land verified in the cache, file:// and pvc:// in place. */
public final class StorageInputs {
    private StorageInputs() {
    }

    public static Inputs fetch(Storage storage, FineTuneJobSpec spec) throws StorageException {
        Path model = storage.fetchDirectory(spec.model.source);
        Path tokenizer = spec.model.tokenizer == null ? model : storage.fetchDirectory(spec.model.tokenizer);
        Path train = storage.fetchFile(spec.dataset.source);
        Path eval = spec.dataset.evalSource == null ? null : storage.fetchFile(spec.dataset.evalSource);
        return new Inputs(model, tokenizer, train, eval);
    }
}
