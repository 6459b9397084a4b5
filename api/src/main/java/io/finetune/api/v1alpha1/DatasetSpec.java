package io.finetune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The training data. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!(has(self.evalSource) && has(self.evalFraction))",
        message = "spec.dataset: set evalSource or evalFraction, not both")
@ValidationRule(value = "!has(self.invalidRecords) || self.invalidRecords != 'Truncate'",
        message = "spec.dataset.invalidRecords: must be Fail or Skip")
public class DatasetSpec {
    /**
     * Share of the records held out when neither evalSource nor evalFraction is set. Not a field default: the server would
     * then set evalFraction next to an evalSource, which the rule above refuses, and the run identity would change.
     */
    public static final double DEFAULT_EVAL_FRACTION = 0.1;

    @Required
    @Pattern(Uris.PATTERN)
    @JsonPropertyDescription("URI of a JSONL file (or a directory of *.jsonl files): pvc://, s3://, https://, hf://org/name[@revision], file:///.")
    public String source;

    @JsonPropertyDescription("Record shape: text ({text}), prompt-completion ({prompt, completion}) or chat ({messages}). Default: detected from the first record.")
    public DatasetFormat format;

    @Pattern(Uris.PATTERN)
    @JsonPropertyDescription("URI of a separate held-out JSONL file for evaluation. Mutually exclusive with evalFraction. Default: none.")
    public String evalSource;

    @Min(0)
    @Max(0.5)
    @JsonPropertyDescription("Fraction of records held out for evaluation (seeded split), 0 to 0.5. Default: "
            + DEFAULT_EVAL_FRACTION + " when evalSource is not set.")
    public Double evalFraction;

    @Min(8)
    @Max(131072)
    @JsonPropertyDescription("Maximum tokens per training sequence. Default: 512.")
    public Integer maxSeqLength = 512;

    @JsonPropertyDescription("Pack several short records into one sequence of maxSeqLength (attention does not cross records). Default: false.")
    public Boolean packing = false;

    @JsonPropertyDescription("Malformed or incomplete records: Fail (stop with file and line) or Skip (drop and count). Default: Fail.")
    public RecordPolicy invalidRecords = RecordPolicy.Fail;

    @JsonPropertyDescription("Records longer than maxSeqLength: Truncate, Skip or Fail. Counted in the training summary. Default: Truncate.")
    public RecordPolicy overlongRecords = RecordPolicy.Truncate;

    @JsonPropertyDescription("Name of a Secret with credentials for the dataset source (S3 keys or HF_TOKEN). Default: none.")
    public String credentialsSecret;

    /** The share of records split off for evaluation when there is no evalSource. */
    public double evalFractionOrDefault() {
        return evalFraction != null ? evalFraction : DEFAULT_EVAL_FRACTION;
    }
}
