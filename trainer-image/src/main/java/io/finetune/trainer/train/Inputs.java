package io.finetune.trainer.train;

import io.finetune.api.v1alpha1.FineTuneJobSpec;
import java.nio.file.Path;

/** Local paths of a job's sources (model dir, tokenizer dir, train file, optional eval file), whatever their URIs were. */
public record Inputs(Path modelDir, Path tokenizerDir, Path trainFile, Path evalFile) {

    /** file:// sources only (a run without the storage layer). */
    public static Inputs local(FineTuneJobSpec spec) {
        Path modelDir = Sources.local(spec.model.source, "spec.model.source");
        Path tokDir = spec.model.tokenizer == null ? modelDir : Sources.local(spec.model.tokenizer, "spec.model.tokenizer");
        Path trainFile = Sources.local(spec.dataset.source, "spec.dataset.source");
        Path evalFile = spec.dataset.evalSource == null ? null : Sources.local(spec.dataset.evalSource, "spec.dataset.evalSource");
        return new Inputs(modelDir, tokDir, trainFile, evalFile);
    }
}
