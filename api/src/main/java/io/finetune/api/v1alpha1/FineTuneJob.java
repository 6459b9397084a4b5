package io.finetune.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A request to fine-tune a language model: base model + dataset + method in, adapter (or full weights) out.
 * The operator turns it into a GPU Job running the trainer; the trainer reads the same type for local runs.
 * {@code kubectl get ftj} prints the printer columns in the order declared here (NAME PHASE METHOD LOSS PROGRESS AGE:
 * the phase first, AGE last as for built-in resources); api's CrdGeneration keeps that order in the generated CRD.
 */
@Group(FineTuneJob.GROUP)
@Version(FineTuneJob.VERSION)
@Kind("FineTuneJob")
@Plural("finetunejobs")
@Singular("finetunejob")
@ShortNames("ftj")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Method", jsonPath = ".spec.method.type", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Loss", jsonPath = ".status.progress.loss", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Progress", jsonPath = ".status.progress.summary", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class FineTuneJob extends CustomResource<FineTuneJobSpec, FineTuneJobStatus> implements Namespaced {
    public static final String GROUP = "finetune.io";
    public static final String VERSION = "v1alpha1";
    public static final String API_VERSION = GROUP + "/" + VERSION;
}
