package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** Where the result goes. Artifacts are never deleted by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class OutputSpec {
    @Required
    @Pattern(Uris.PATTERN)
    @JsonPropertyDescription("URI of the output directory (adapter or full weights, checkpoints/, training_summary.json): pvc://, s3://, file:///.")
    public String destination;

    @JsonPropertyDescription("Name of a Secret in the job's namespace with credentials for the destination (e.g. S3 keys). Only the name; "
            + "values reach the trainer as secretKeyRef env. Default: none.")
    public String credentialsSecret;

    @JsonPropertyDescription("Also write merged full weights (base + adapter) in Hugging Face layout under merged/. Default: false.")
    public Boolean merge = false;
}
