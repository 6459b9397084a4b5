package io.finetune.trainer.method;

import io.finetune.api.ArtifactFormat;
import io.finetune.api.Serving;
import java.util.List;

/**
 * What a method wrote, as status.artifact reports it: the format (one list with the operator, {@link ArtifactFormat}) and
 * which servers load it as written (judged from the files, e.g. the adapter_config.json, not from the spec).
 */
public record MethodOutput(ArtifactFormat format, Serving.Verdict serving) {
    public List<String> servableBy() {
        return serving.servableBy();
    }
}
